#pragma once

#include <sys/types.h>
#include <sys/uio.h>

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

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

  // Borrows an evbuffer owned elsewhere (a bufferevent's input queue).
  static Buffer borrow(evbuffer* raw);
  Buffer(Buffer&& other) noexcept;
  Buffer& operator=(Buffer&& other) noexcept;

  void add(std::string_view data);
  void add(const void* data, size_t length);
  // Appends a view of memory kept alive by `keepalive` until the bytes have
  // been written or drained: zero-copy for hot cached objects.
  void addShared(std::shared_ptr<const std::string> keepalive);
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
  // Moves the first `length` bytes of `other`.
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

  evbuffer* raw() { return buffer_; }

 private:
  struct Borrowed {};
  Buffer(evbuffer* raw, Borrowed);

  evbuffer* buffer_;
  bool owned_;
};

}  // namespace modgate::buffer
