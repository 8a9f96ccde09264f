#include "source/sumdb/zip_hash.h"

#include <minizip/unzip.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <memory>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "source/sumdb/digest.h"
#include "source/sumdb/dirhash.h"

namespace modgate::sumdb {
namespace {

// The zip's bytes as minizip sees them: a window of a file, or memory.
struct ByteRange {
  int fd = -1;
  const char* memory = nullptr;
  uint64_t offset = 0;
  uint64_t length = 0;
  uint64_t position = 0;
  bool error = false;
};

voidpf openRange(voidpf opaque, const void*, int mode) {
  if ((mode & ZLIB_FILEFUNC_MODE_READWRITEFILTER) != ZLIB_FILEFUNC_MODE_READ) return nullptr;
  return opaque;
}

uLong readRange(voidpf, voidpf stream, void* buf, uLong size) {
  auto* range = static_cast<ByteRange*>(stream);
  if (range->position >= range->length) return 0;
  const uint64_t want = std::min<uint64_t>(size, range->length - range->position);
  if (range->memory != nullptr) {
    std::memcpy(buf, range->memory + range->position, want);
    range->position += want;
    return static_cast<uLong>(want);
  }
  uint64_t done = 0;
  while (done < want) {
    const ssize_t n = ::pread(range->fd, static_cast<char*>(buf) + done, want - done,
                              static_cast<off_t>(range->offset + range->position + done));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      range->error = n < 0;
      break;
    }
    done += static_cast<uint64_t>(n);
  }
  range->position += done;
  return static_cast<uLong>(done);
}

uLong writeRange(voidpf, voidpf, const void*, uLong) { return 0; }

ZPOS64_T tellRange(voidpf, voidpf stream) { return static_cast<ByteRange*>(stream)->position; }

long seekRange(voidpf, voidpf stream, ZPOS64_T offset, int origin) {
  auto* range = static_cast<ByteRange*>(stream);
  uint64_t base = 0;
  switch (origin) {
    case ZLIB_FILEFUNC_SEEK_SET:
      base = 0;
      break;
    case ZLIB_FILEFUNC_SEEK_CUR:
      base = range->position;
      break;
    case ZLIB_FILEFUNC_SEEK_END:
      base = range->length;
      break;
    default:
      return -1;
  }
  // minizip seeks with unsigned offsets only forward from the base.
  if (offset > range->length || base > range->length - offset) return -1;
  range->position = base + offset;
  return 0;
}

int closeRange(voidpf, voidpf) { return 0; }

int errorRange(voidpf, voidpf stream) { return static_cast<ByteRange*>(stream)->error ? 1 : 0; }

struct UnzCloser {
  void operator()(void* file) const { unzClose(file); }
};

absl::StatusOr<std::string> hashRange(ByteRange& range, const ZipLimits& limits) {
  zlib_filefunc64_def io;
  io.zopen64_file = openRange;
  io.zread_file = readRange;
  io.zwrite_file = writeRange;
  io.ztell64_file = tellRange;
  io.zseek64_file = seekRange;
  io.zclose_file = closeRange;
  io.zerror_file = errorRange;
  io.opaque = &range;
  std::unique_ptr<void, UnzCloser> zip(unzOpen2_64("module.zip", &io));
  if (zip == nullptr) return absl::InvalidArgumentError("zip: not a valid zip file");

  unz_global_info64 global;
  if (unzGetGlobalInfo64(zip.get(), &global) != UNZ_OK) {
    return absl::InvalidArgumentError("zip: unreadable central directory");
  }
  if (global.number_entry > limits.max_entries) {
    return absl::InvalidArgumentError(absl::StrCat(
        "zip: ", global.number_entry, " entries, over the limit of ", limits.max_entries));
  }

  std::vector<FileDigest> files;
  absl::flat_hash_set<std::string> names;
  uint64_t total = 0;
  std::vector<char> chunk(64 * 1024);
  int status = unzGoToFirstFile(zip.get());
  // An empty zip has no first file; Hash1 of nothing is still a hash.
  while (status == UNZ_OK) {
    unz_file_info64 info;
    char name[4097];
    if (unzGetCurrentFileInfo64(zip.get(), &info, name, sizeof(name), nullptr, 0, nullptr, 0) !=
        UNZ_OK) {
      return absl::InvalidArgumentError("zip: unreadable file header");
    }
    if (info.size_filename >= sizeof(name)) {
      return absl::InvalidArgumentError("zip: file name too long");
    }
    std::string file_name(name, info.size_filename);
    if (file_name.find('\0') != std::string::npos) {
      return absl::InvalidArgumentError("zip: file name holds a NUL byte");
    }
    if (!names.insert(file_name).second) {
      // Go's zip rules forbid it; two readers could disagree on which wins.
      return absl::InvalidArgumentError(
          absl::StrCat("zip: duplicate file name \"", file_name, "\""));
    }
    if (unzOpenCurrentFile(zip.get()) != UNZ_OK) {
      return absl::InvalidArgumentError(absl::StrCat("zip: cannot open \"", file_name, "\""));
    }
    Sha256 sha;
    while (true) {
      const int n =
          unzReadCurrentFile(zip.get(), chunk.data(), static_cast<unsigned>(chunk.size()));
      if (n < 0) {
        unzCloseCurrentFile(zip.get());
        return absl::InvalidArgumentError(absl::StrCat("zip: cannot read \"", file_name, "\""));
      }
      if (n == 0) break;
      total += static_cast<uint64_t>(n);
      if (total > limits.max_uncompressed_bytes) {
        unzCloseCurrentFile(zip.get());
        return absl::InvalidArgumentError(
            absl::StrCat("zip: more than ", limits.max_uncompressed_bytes, " bytes uncompressed"));
      }
      sha.update(chunk.data(), static_cast<size_t>(n));
    }
    // Checks the CRC-32 once the whole entry was read.
    if (unzCloseCurrentFile(zip.get()) != UNZ_OK) {
      return absl::InvalidArgumentError(absl::StrCat("zip: checksum error in \"", file_name, "\""));
    }
    files.push_back(FileDigest{std::move(file_name), sha.finish()});
    status = unzGoToNextFile(zip.get());
  }
  if (status != UNZ_END_OF_LIST_OF_FILE) {
    return absl::InvalidArgumentError("zip: unreadable central directory entry");
  }
  if (range.error) return absl::InternalError("zip: read error");
  return Hash1(std::move(files));
}

}  // namespace

absl::StatusOr<std::string> HashZipFile(int fd, uint64_t offset, uint64_t length,
                                        const ZipLimits& limits) {
  ByteRange range;
  range.fd = fd;
  range.offset = offset;
  range.length = length;
  return hashRange(range, limits);
}

absl::StatusOr<std::string> HashZipBytes(std::string_view zip, const ZipLimits& limits) {
  ByteRange range;
  range.memory = zip.data();
  range.length = zip.size();
  return hashRange(range, limits);
}

}  // namespace modgate::sumdb
