#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <vector>

// minizip (Debian's, zlib only) over a byte range: a window of a file read
// with pread, or memory. A cache entry's body follows a header, so a zip is
// read where it lies and no copy of it is made. Shared by the whole-zip
// hasher (zip_hash.h) and the streaming hasher's central directory check
// (streaming_zip_hash.h).
namespace modgate::sumdb {

// The zip's bytes as minizip sees them. minizip reads headers a few bytes
// at a time (one call per field), so small reads from a file are served
// from read-ahead buffers: one pread per header instead of dozens. Two of
// them, since going through the entries alternates between the central
// directory (read in order) and each file's local header.
struct ZipByteRange {
  int fd = -1;
  const char* memory = nullptr;
  uint64_t offset = 0;
  uint64_t length = 0;
  uint64_t position = 0;
  bool error = false;
  // File bytes [start, start + bytes.size()), and when last used.
  struct ReadAhead {
    std::vector<char> bytes;
    uint64_t start = 0;
    uint64_t last_use = 0;
  };
  std::array<ReadAhead, 2> ahead;
  uint64_t reads = 0;

  static ZipByteRange file(int fd, uint64_t offset, uint64_t length);
  static ZipByteRange bytes(const char* data, uint64_t length);
};

struct UnzipCloser {
  void operator()(void* zip) const;
};
using UnzipPtr = std::unique_ptr<void, UnzipCloser>;

// Opens the zip in `range` (which must outlive the result): reads its end
// of central directory record. Null if it is not a zip.
UnzipPtr OpenZipRange(ZipByteRange& range);

}  // namespace modgate::sumdb
