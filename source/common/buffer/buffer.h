#pragma once

#include <sys/types.h>
#include <sys/uio.h>

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "absl/functional/function_ref.h"

struct evbuffer;

namespace modgate::buffer {

// An open, read-only file descriptor, closed when the last holder lets go.
// Shared by every response that sends (part of) the same file, so a hot
// file is opened once rather than per request.
class FileHandle {
 public:
  explicit FileHandle(int fd) : fd_(fd) {}
  ~FileHandle();
  FileHandle(const FileHandle&) = delete;
  FileHandle& operator=(const FileHandle&) = delete;
  int fd() const { return fd_; }

 private:
  const int fd_;
};

// A byte queue over libevent's evbuffer: a chain of slices, so moving data
// between buffers (socket -> codec -> stream -> socket) relinks slices
// instead of copying bytes, file ranges go out with sendfile, and shared
// immutable blobs are referenced rather than copied.
class Buffer {
 public:
  Buffer();
  ~Buffer();
  Buffer(const Buffer&) = delete;
  Buffer& operator=(const Buffer&) = delete;

  Buffer(Buffer&& other) noexcept;
  Buffer& operator=(Buffer&& other) noexcept;

  void add(std::string_view data);
  void add(const void* data, size_t length);
  // Appends bytes a producer writes in place: `fill` gets one contiguous
  // block of `length` bytes at the end of the buffer and returns how many it
  // wrote (at most `length`; the rest is given back). Saves the staging
  // copy add() needs when the bytes come from a reader (BoringSSL's memory
  // BIO for TLS ciphertext). Returns what `fill` returned.
  size_t addInPlace(size_t length, absl::FunctionRef<size_t(uint8_t* block, size_t length)> fill);
  // Appends a view of memory kept alive by `keepalive` until the bytes have
  // been written or drained: zero-copy for hot cached objects.
  void addShared(std::shared_ptr<const std::string> keepalive);
  // The same for bytes [offset, offset + length) of `keepalive` (a range
  // request on a hot body); the range must lie within it.
  void addShared(std::shared_ptr<const std::string> keepalive, size_t offset, size_t length);
  // Appends `length` bytes of file `fd` from `offset`; takes ownership of
  // `fd` (closed on failure too). libevent maps the range into memory
  // (mmap) here; only a socket's own output buffer can use sendfile().
  bool addFile(int fd, off_t offset, size_t length);
  // Like addFile(), but the bytes are never mapped: they can only be
  // written to a plain socket, where they go out with sendfile(). The
  // buffer must end up in a plain socket's output unread (HTTP/1.1 over
  // TCP); a codec that reads bytes (HTTP/2, TLS) must get addFile().
  bool addFileForSendfile(int fd, off_t offset, size_t length);

  // Appends a range of a shared open file without giving up the fd: the
  // handle stays alive until the bytes are written or drained. With
  // `sendfile` the range is never mapped (plain-socket HTTP/1.1 only; see
  // addFileForSendfile()); otherwise it is mapped for a codec to read.
  bool addFileRange(std::shared_ptr<const FileHandle> file, off_t offset, size_t length,
                    bool sendfile);

  // Moves all of `other` to the end of this buffer (relinks, no copy).
  void move(Buffer& other);
  // Moves the first `length` bytes of `other`. The cut must not fall inside
  // a sendfile range: libevent would copy that chain's (absent) memory.
  void move(Buffer& other, size_t length);

  size_t length() const;
  void drain(size_t length);
  // Copies up to `length` bytes from the front without draining.
  size_t copyOut(void* out, size_t length) const;
  // Returns a pointer to the first `length` bytes, made contiguous.
  const uint8_t* linearize(size_t length);
  // Fills up to `max` iovecs describing the first bytes (no copy).
  int peek(iovec* vecs, int max, size_t length) const;
  // Finds `needle` from the start; returns its offset or -1.
  ssize_t search(std::string_view needle) const;

  std::string toString() const;

  // Writes from the front to socket `fd` (non-blocking), as much as one call
  // takes, and drains what was written: memory with writev, sendfile file
  // ranges with sendfile. Memory directly before a sendfile range goes with
  // MSG_MORE, so response headers share a TCP segment with the file's first
  // bytes instead of leaving as a packet of their own (warm 64 KiB zips,
  // tools/bench zip64k_h1: ~15% less CPU per request). Returns the bytes
  // written, or -1 / 0 with errno (EAGAIN: the socket is full).
  int writeTo(int fd);

  // The evbuffer itself (created now if the buffer never held a byte).
  evbuffer* raw() { return ensure(); }

 private:
  static constexpr size_t kNoSendfile = static_cast<size_t>(-1);
  // The evbuffer, created on first use.
  evbuffer* ensure();
  // Keeps sendfile_at_ right after `length` bytes left the front.
  void noteDrained(size_t length);
  void noteSendfileAppended(size_t at);

  // Null until something is added (and after a move from): most buffers a
  // short request carries (an HTTP/2 stream's request body, say) never hold
  // a byte, and each evbuffer is an allocation and a free (benchmark: warm
  // h2c .info).
  evbuffer* buffer_ = nullptr;
  // Offset of the first sendfile range, if known. libevent cannot tell a
  // sendfile chain from memory when peeking, so this is tracked exactly or
  // not at all: once unsure (a partial move or a drain past a range), the
  // buffer is `sendfile_untracked_` until it empties, and writes plainly.
  size_t sendfile_at_ = kNoSendfile;
  bool sendfile_untracked_ = false;
};

}  // namespace modgate::buffer
