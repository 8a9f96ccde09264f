#include "source/sumdb/zip_hash.h"

#include <minizip/unzip.h>

#include <vector>

#include "absl/container/flat_hash_set.h"
#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "source/sumdb/digest.h"
#include "source/sumdb/dirhash.h"
#include "source/sumdb/zip_range.h"

namespace modgate::sumdb {
namespace {

absl::StatusOr<std::string> hashRange(ZipByteRange& range, const ZipLimits& limits) {
  UnzipPtr zip = OpenZipRange(range);
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
  ZipByteRange range = ZipByteRange::file(fd, offset, length);
  return hashRange(range, limits);
}

absl::StatusOr<std::string> HashZipBytes(std::string_view zip, const ZipLimits& limits) {
  ZipByteRange range = ZipByteRange::bytes(zip.data(), zip.size());
  return hashRange(range, limits);
}

}  // namespace modgate::sumdb
