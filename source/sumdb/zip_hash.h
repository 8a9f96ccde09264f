#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"

// The go.sum hash of a module zip (dirhash.HashZip with Hash1): every entry
// of the zip, by name, with the SHA-256 of its uncompressed content. Read
// with Debian's minizip (zlib only) through an I/O layer over a byte range,
// so a cache entry is hashed where it lies (its body follows a header) and
// no copy of the zip is made.
namespace modgate::sumdb {

// Bounds on what is read, so a hostile zip cannot make the hasher work
// without end: Go's own limits on module zips (golang.org/x/mod/zip).
struct ZipLimits {
  uint64_t max_uncompressed_bytes = 500ull << 20;  // zip.MaxZipFile
  uint64_t max_entries = 100000;
};

// Hashes the zip held in bytes [offset, offset + length) of `fd` (pread:
// the fd's position is untouched; blocking file I/O, so call it from a
// thread-pool thread). Errors say what is wrong ("zip: ..."): unreadable
// structure, a CRC mismatch, a duplicate name, a limit exceeded.
absl::StatusOr<std::string> HashZipFile(int fd, uint64_t offset, uint64_t length,
                                        const ZipLimits& limits = {});

// The same over a zip in memory (tests, fuzzing).
absl::StatusOr<std::string> HashZipBytes(std::string_view zip, const ZipLimits& limits = {});

}  // namespace modgate::sumdb
