#include "source/sumdb/streaming_zip_hash.h"

#include <minizip/unzip.h>

#include <algorithm>
#include <cstring>

#include "absl/container/flat_hash_set.h"
#include "source/sumdb/dirhash.h"

namespace modgate::sumdb {
namespace {

constexpr uint32_t kLocalHeaderSignature = 0x04034b50;
constexpr uint32_t kCentralHeaderSignature = 0x02014b50;
constexpr uint32_t kEndOfCentralDirectorySignature = 0x06054b50;
constexpr uint32_t kDescriptorSignature = 0x08074b50;
constexpr size_t kLocalHeaderSize = 30;
// With its signature; 12 bytes without. 32-bit sizes only (no ZIP64).
constexpr size_t kDescriptorSize = 16;
// HashZipFile reads names into a 4097-byte buffer and refuses longer ones.
constexpr size_t kMaxName = 4096;
constexpr uint16_t kFlagEncrypted = 0x1;
constexpr uint16_t kFlagDataDescriptor = 0x8;
constexpr uint16_t kFlagStrongEncryption = 0x40;
constexpr uint16_t kMethodStored = 0;
constexpr uint16_t kMethodDeflated = 8;

uint16_t le16(const std::string& bytes, size_t at) {
  return static_cast<uint16_t>(static_cast<unsigned char>(bytes[at]) |
                               static_cast<unsigned char>(bytes[at + 1]) << 8);
}

uint32_t le32(const std::string& bytes, size_t at) {
  return static_cast<uint32_t>(le16(bytes, at)) | static_cast<uint32_t>(le16(bytes, at + 2)) << 16;
}

}  // namespace

StreamingZipHasher::StreamingZipHasher(const ZipLimits& limits) : limits_(limits) {}

StreamingZipHasher::~StreamingZipHasher() {
  if (inflate_ready_) inflateEnd(&inflate_);
}

void StreamingZipHasher::update(std::string_view bytes) {
  seen_ += bytes.size();
  while (!bytes.empty()) {
    switch (state_) {
      case State::kSignature:
      case State::kLocalHeader:
      case State::kNameAndExtra:
      case State::kDescriptor:
        if (gather(bytes)) onHeaderBytes();
        break;
      case State::kStored:
        consumeStored(bytes);
        break;
      case State::kDeflated:
        consumeDeflated(bytes);
        break;
      case State::kDone:
      case State::kGaveUp:
        return;
    }
  }
}

bool StreamingZipHasher::gather(std::string_view& bytes) {
  const size_t take = std::min(need_ - header_.size(), bytes.size());
  header_.append(bytes.data(), take);
  bytes.remove_prefix(take);
  consumed_ += take;
  return header_.size() == need_;
}

void StreamingZipHasher::onHeaderBytes() {
  switch (state_) {
    case State::kSignature: {
      const uint32_t signature = le32(header_, 0);
      if (signature == kLocalHeaderSignature) {
        state_ = State::kLocalHeader;
        need_ = kLocalHeaderSize;
      } else if (signature == kCentralHeaderSignature ||
                 signature == kEndOfCentralDirectorySignature) {
        state_ = State::kDone;
        header_.clear();
      } else {
        giveUp();
      }
      return;
    }
    case State::kLocalHeader: {
      const size_t name_size = le16(header_, 26);
      const size_t extra_size = le16(header_, 28);
      if (name_size > kMaxName) {
        giveUp();
        return;
      }
      state_ = State::kNameAndExtra;
      need_ = kLocalHeaderSize + name_size + extra_size;
      // An empty name and extra field: the header is complete already.
      if (header_.size() == need_) startEntry();
      return;
    }
    case State::kNameAndExtra:
      startEntry();
      return;
    case State::kDescriptor:
      checkDescriptor();
      return;
    default:
      return;
  }
}

void StreamingZipHasher::startEntry() {
  if (entries_.size() >= limits_.max_entries) {
    giveUp();
    return;
  }
  current_ = Entry();
  current_.flags = le16(header_, 6);
  current_.method = le16(header_, 8);
  current_.crc = le32(header_, 14);
  current_.compressed_size = le32(header_, 18);
  current_.uncompressed_size = le32(header_, 22);
  current_.name = header_.substr(kLocalHeaderSize, le16(header_, 26));
  current_.data_offset = consumed_;
  header_.clear();
  if ((current_.flags & (kFlagEncrypted | kFlagStrongEncryption)) != 0 ||
      current_.compressed_size == 0xffffffff || current_.uncompressed_size == 0xffffffff) {
    giveUp();
    return;
  }
  sha_.reset();
  crc_ = crc32_z(0, nullptr, 0);
  if (current_.method == kMethodStored) {
    // Without a data descriptor a stored entry's size is in its header;
    // with one it could only be found by guessing where the data ends.
    if ((current_.flags & kFlagDataDescriptor) != 0 ||
        current_.compressed_size != current_.uncompressed_size) {
      giveUp();
      return;
    }
    stored_left_ = current_.compressed_size;
    current_.uncompressed_size = 0;
    state_ = State::kStored;
    if (stored_left_ == 0) endEntry();
    return;
  }
  if (current_.method != kMethodDeflated) {
    giveUp();
    return;
  }
  const int ready =
      inflate_ready_ ? inflateReset2(&inflate_, -MAX_WBITS) : inflateInit2(&inflate_, -MAX_WBITS);
  if (ready != Z_OK) {
    giveUp();
    return;
  }
  inflate_ready_ = true;
  if (out_.empty()) out_.resize(64 * 1024);
  state_ = State::kDeflated;
}

void StreamingZipHasher::consumeStored(std::string_view& bytes) {
  const size_t take = static_cast<size_t>(std::min<uint64_t>(stored_left_, bytes.size()));
  addContent(bytes.data(), take);
  bytes.remove_prefix(take);
  consumed_ += take;
  stored_left_ -= take;
  if (state_ == State::kStored && stored_left_ == 0) endEntry();
}

void StreamingZipHasher::consumeDeflated(std::string_view& bytes) {
  while (state_ == State::kDeflated) {
    const size_t in = std::min<size_t>(bytes.size(), 1u << 30);
    inflate_.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(bytes.data()));
    inflate_.avail_in = static_cast<uInt>(in);
    inflate_.next_out = out_.data();
    inflate_.avail_out = static_cast<uInt>(out_.size());
    const int status = inflate(&inflate_, Z_NO_FLUSH);
    bytes.remove_prefix(in - inflate_.avail_in);
    consumed_ += in - inflate_.avail_in;
    addContent(out_.data(), out_.size() - inflate_.avail_out);
    if (state_ != State::kDeflated) return;
    if (status == Z_STREAM_END) {
      const uint64_t compressed = inflate_.total_in;
      if ((current_.flags & kFlagDataDescriptor) == 0 &&
          (compressed != current_.compressed_size ||
           current_.uncompressed_size != inflate_.total_out || crc_ != current_.crc)) {
        giveUp();
        return;
      }
      current_.compressed_size = compressed;
      endEntry();
      return;
    }
    if (status == Z_BUF_ERROR && bytes.empty()) return;  // more input to come
    if (status != Z_OK) {
      giveUp();
      return;
    }
    // All input taken and the output not full: wait for more bytes.
    if (bytes.empty() && inflate_.avail_out != 0) return;
  }
}

void StreamingZipHasher::addContent(const void* data, size_t size) {
  if (size == 0) return;
  uncompressed_total_ += size;
  if (uncompressed_total_ > limits_.max_uncompressed_bytes) {
    giveUp();
    return;
  }
  sha_.update(data, size);
  crc_ = crc32_z(crc_, static_cast<const Bytef*>(data), size);
  if (current_.method == kMethodStored) current_.uncompressed_size += size;
}

void StreamingZipHasher::endEntry() {
  if (current_.method == kMethodDeflated) {
    current_.uncompressed_size = inflate_.total_out;
  }
  current_.crc = crc_;
  current_.digest = sha_.finish();
  const bool descriptor =
      current_.method == kMethodDeflated && (current_.flags & kFlagDataDescriptor) != 0;
  entries_.push_back(std::move(current_));
  state_ = descriptor ? State::kDescriptor : State::kSignature;
  need_ = descriptor ? kDescriptorSize : 4;
}

void StreamingZipHasher::checkDescriptor() {
  const Entry& entry = entries_.back();
  auto matches = [&](size_t at) {
    return le32(header_, at) == entry.crc && le32(header_, at + 4) == entry.compressed_size &&
           le32(header_, at + 8) == entry.uncompressed_size;
  };
  if (le32(header_, 0) == kDescriptorSignature && matches(4)) {
    header_.clear();
  } else if (matches(0)) {
    // No signature: the last 4 bytes gathered are the next signature.
    header_.erase(0, 12);
  } else {
    // ZIP64 sizes, or a descriptor that disagrees with the data.
    giveUp();
    return;
  }
  state_ = State::kSignature;
  need_ = 4;
  if (header_.size() == need_) onHeaderBytes();
}

void StreamingZipHasher::giveUp() {
  state_ = State::kGaveUp;
  header_.clear();
  header_.shrink_to_fit();
  entries_.clear();
  entries_.shrink_to_fit();
  out_.clear();
  out_.shrink_to_fit();
  if (inflate_ready_) {
    inflateEnd(&inflate_);
    inflate_ready_ = false;
  }
}

std::optional<std::string> StreamingZipHasher::finishFile(int fd, uint64_t offset,
                                                          uint64_t length) {
  ZipByteRange range = ZipByteRange::file(fd, offset, length);
  return finish(range);
}

std::optional<std::string> StreamingZipHasher::finishBytes(std::string_view zip) {
  ZipByteRange range = ZipByteRange::bytes(zip.data(), zip.size());
  return finish(range);
}

std::optional<std::string> StreamingZipHasher::finish(ZipByteRange& range) {
  if (state_ != State::kDone || range.length != seen_) return std::nullopt;
  UnzipPtr zip = OpenZipRange(range);
  if (zip == nullptr) return std::nullopt;
  unz_global_info64 global;
  if (unzGetGlobalInfo64(zip.get(), &global) != UNZ_OK || global.number_entry != entries_.size()) {
    return std::nullopt;
  }
  std::vector<FileDigest> files;
  files.reserve(entries_.size());
  absl::flat_hash_set<std::string_view> names;
  int status = unzGoToFirstFile(zip.get());
  char name[kMaxName + 1];
  for (const Entry& entry : entries_) {
    if (status != UNZ_OK) return std::nullopt;
    unz_file_info64 info;
    if (unzGetCurrentFileInfo64(zip.get(), &info, name, sizeof(name), nullptr, 0, nullptr, 0) !=
            UNZ_OK ||
        info.size_filename != entry.name.size() ||
        std::memcmp(name, entry.name.data(), entry.name.size()) != 0 ||
        entry.name.find('\0') != std::string::npos || !names.insert(entry.name).second ||
        info.compression_method != entry.method || (info.flag & kFlagEncrypted) != 0 ||
        info.crc != entry.crc || info.compressed_size != entry.compressed_size ||
        info.uncompressed_size != entry.uncompressed_size) {
      return std::nullopt;
    }
    // Raw: reads and checks the local header (as the go command and
    // HashZipFile do) without starting to inflate.
    if (unzOpenCurrentFile2(zip.get(), nullptr, nullptr, 1) != UNZ_OK) return std::nullopt;
    const ZPOS64_T data_offset = unzGetCurrentFileZStreamPos64(zip.get());
    if (unzCloseCurrentFile(zip.get()) != UNZ_OK || data_offset != entry.data_offset) {
      return std::nullopt;
    }
    files.push_back(FileDigest{entry.name, entry.digest});
    status = unzGoToNextFile(zip.get());
  }
  if (status != UNZ_END_OF_LIST_OF_FILE || range.error) return std::nullopt;
  absl::StatusOr<std::string> hash = Hash1(std::move(files));
  if (!hash.ok()) return std::nullopt;
  return *std::move(hash);
}

}  // namespace modgate::sumdb
