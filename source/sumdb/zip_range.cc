#include "source/sumdb/zip_range.h"

#include <minizip/unzip.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace modgate::sumdb {
namespace {

// Reads below this size go through the read-ahead buffer; larger ones
// (compressed data) go straight to the caller's buffer.
constexpr uint64_t kReadAhead = 4096;

voidpf openRange(voidpf opaque, const void*, int mode) {
  if ((mode & ZLIB_FILEFUNC_MODE_READWRITEFILTER) != ZLIB_FILEFUNC_MODE_READ) return nullptr;
  return opaque;
}

// pread of up to `size` bytes at range offset `at`; short only at the end
// of the file or on an error (then range.error is set).
uint64_t preadRange(ZipByteRange& range, char* buf, uint64_t size, uint64_t at) {
  uint64_t done = 0;
  while (done < size) {
    const ssize_t n =
        ::pread(range.fd, buf + done, size - done, static_cast<off_t>(range.offset + at + done));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      range.error = n < 0;
      break;
    }
    done += static_cast<uint64_t>(n);
  }
  return done;
}

uLong readRange(voidpf, voidpf stream, void* buf, uLong size) {
  auto* range = static_cast<ZipByteRange*>(stream);
  if (range->position >= range->length) return 0;
  const uint64_t want = std::min<uint64_t>(size, range->length - range->position);
  char* out = static_cast<char*>(buf);
  if (range->memory != nullptr) {
    std::memcpy(out, range->memory + range->position, want);
    range->position += want;
    return static_cast<uLong>(want);
  }
  if (want >= kReadAhead) {
    const uint64_t done = preadRange(*range, out, want, range->position);
    range->position += done;
    return static_cast<uLong>(done);
  }
  ZipByteRange::ReadAhead* use = nullptr;
  for (ZipByteRange::ReadAhead& ahead : range->ahead) {
    if (range->position >= ahead.start &&
        range->position + want <= ahead.start + ahead.bytes.size()) {
      use = &ahead;
    }
  }
  if (use == nullptr) {
    use =
        range->ahead[0].last_use <= range->ahead[1].last_use ? &range->ahead[0] : &range->ahead[1];
    use->bytes.resize(std::min<uint64_t>(kReadAhead, range->length - range->position));
    use->bytes.resize(preadRange(*range, use->bytes.data(), use->bytes.size(), range->position));
    use->start = range->position;
  }
  use->last_use = ++range->reads;
  const uint64_t have = std::min<uint64_t>(want, use->start + use->bytes.size() - range->position);
  std::memcpy(out, use->bytes.data() + (range->position - use->start), have);
  range->position += have;
  return static_cast<uLong>(have);
}

uLong writeRange(voidpf, voidpf, const void*, uLong) { return 0; }

ZPOS64_T tellRange(voidpf, voidpf stream) { return static_cast<ZipByteRange*>(stream)->position; }

long seekRange(voidpf, voidpf stream, ZPOS64_T offset, int origin) {
  auto* range = static_cast<ZipByteRange*>(stream);
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

int errorRange(voidpf, voidpf stream) { return static_cast<ZipByteRange*>(stream)->error ? 1 : 0; }

}  // namespace

ZipByteRange ZipByteRange::file(int fd, uint64_t offset, uint64_t length) {
  ZipByteRange range;
  range.fd = fd;
  range.offset = offset;
  range.length = length;
  return range;
}

ZipByteRange ZipByteRange::bytes(const char* data, uint64_t length) {
  ZipByteRange range;
  range.memory = data;
  range.length = length;
  return range;
}

void UnzipCloser::operator()(void* zip) const { unzClose(zip); }

UnzipPtr OpenZipRange(ZipByteRange& range) {
  zlib_filefunc64_def io;
  io.zopen64_file = openRange;
  io.zread_file = readRange;
  io.zwrite_file = writeRange;
  io.ztell64_file = tellRange;
  io.zseek64_file = seekRange;
  io.zclose_file = closeRange;
  io.zerror_file = errorRange;
  io.opaque = &range;
  return UnzipPtr(unzOpen2_64("module.zip", &io));
}

}  // namespace modgate::sumdb
