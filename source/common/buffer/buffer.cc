#include "source/common/buffer/buffer.h"

#include <event2/buffer.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>

namespace modgate::buffer {

Buffer::Buffer() = default;

evbuffer* Buffer::ensure() {
  if (buffer_ == nullptr) {
    buffer_ = evbuffer_new();
    if (buffer_ == nullptr) abort();
  }
  return buffer_;
}

Buffer::~Buffer() {
  if (buffer_ != nullptr) evbuffer_free(buffer_);
}

Buffer::Buffer(Buffer&& other) noexcept
    : buffer_(other.buffer_),
      sendfile_at_(other.sendfile_at_),
      sendfile_untracked_(other.sendfile_untracked_) {
  other.buffer_ = nullptr;
  other.sendfile_at_ = kNoSendfile;
  other.sendfile_untracked_ = false;
}

Buffer& Buffer::operator=(Buffer&& other) noexcept {
  if (this != &other) {
    if (buffer_ != nullptr) evbuffer_free(buffer_);
    buffer_ = other.buffer_;
    sendfile_at_ = other.sendfile_at_;
    sendfile_untracked_ = other.sendfile_untracked_;
    other.buffer_ = nullptr;
    other.sendfile_at_ = kNoSendfile;
    other.sendfile_untracked_ = false;
  }
  return *this;
}

void Buffer::add(std::string_view data) { evbuffer_add(ensure(), data.data(), data.size()); }

void Buffer::add(const void* data, size_t length) { evbuffer_add(ensure(), data, length); }

size_t Buffer::addInPlace(size_t length,
                          absl::FunctionRef<size_t(uint8_t* block, size_t length)> fill) {
  if (length == 0) return 0;
  // One iovec: libevent then guarantees a single contiguous block.
  evbuffer_iovec block;
  if (evbuffer_reserve_space(ensure(), static_cast<ev_ssize_t>(length), &block, 1) != 1 ||
      block.iov_len < length) {
    abort();  // out of memory, as evbuffer_new() failing is
  }
  const size_t written = std::min(fill(static_cast<uint8_t*>(block.iov_base), length), length);
  block.iov_len = written;
  evbuffer_commit_space(buffer_, &block, 1);
  return written;
}

void Buffer::addShared(std::shared_ptr<const std::string> keepalive) {
  const size_t size = keepalive->size();
  addShared(std::move(keepalive), 0, size);
}

void Buffer::addShared(std::shared_ptr<const std::string> keepalive, size_t offset, size_t length) {
  if (length == 0) return;
  auto* holder = new std::shared_ptr<const std::string>(std::move(keepalive));
  evbuffer_add_reference(
      ensure(), (*holder)->data() + offset, length,
      [](const void*, size_t, void* arg) {
        delete static_cast<std::shared_ptr<const std::string>*>(arg);
      },
      holder);
}

bool Buffer::addFile(int fd, off_t offset, size_t length) {
  if (length == 0) {
    ::close(fd);
    return true;
  }
  if (evbuffer_add_file(ensure(), fd, offset, static_cast<ev_off_t>(length)) != 0) {
    // libevent leaves the fd open on failure; the contract says we own it.
    ::close(fd);
    return false;
  }
  return true;
}

bool Buffer::addFileForSendfile(int fd, off_t offset, size_t length) {
  if (length == 0) {
    ::close(fd);
    return true;
  }
  // libevent builds a sendfile chain only for buffers that drain to a
  // socket; the chain keeps that nature when moved into the socket's own
  // output buffer.
  evbuffer_set_flags(ensure(), EVBUFFER_FLAG_DRAINS_TO_FD);
  evbuffer_file_segment* segment = evbuffer_file_segment_new(
      fd, offset, static_cast<ev_off_t>(length), EVBUF_FS_CLOSE_ON_FREE | EVBUF_FS_DISABLE_MMAP);
  if (segment == nullptr) {
    ::close(fd);
    return false;
  }
  const size_t at = this->length();
  const int rc = evbuffer_add_file_segment(buffer_, segment, 0, static_cast<ev_off_t>(length));
  evbuffer_file_segment_free(segment);  // the buffer holds its own reference
  if (rc == 0) noteSendfileAppended(at);
  return rc == 0;
}

FileHandle::~FileHandle() {
  if (fd_ >= 0) ::close(fd_);
}

bool Buffer::addFileRange(std::shared_ptr<const FileHandle> file, off_t offset, size_t length,
                          bool sendfile) {
  if (length == 0) return true;
  if (sendfile) evbuffer_set_flags(ensure(), EVBUFFER_FLAG_DRAINS_TO_FD);
  // Not EVBUF_FS_CLOSE_ON_FREE: the handle owns the fd; the segment holds a
  // reference to the handle until libevent frees the segment.
  evbuffer_file_segment* segment =
      evbuffer_file_segment_new(file->fd(), offset, static_cast<ev_off_t>(length),
                                sendfile ? EVBUF_FS_DISABLE_MMAP : EVBUF_FS_DISABLE_SENDFILE);
  if (segment == nullptr) return false;
  auto* holder = new std::shared_ptr<const FileHandle>(std::move(file));
  evbuffer_file_segment_add_cleanup_cb(
      segment,
      [](const evbuffer_file_segment*, int, void* arg) {
        delete static_cast<std::shared_ptr<const FileHandle>*>(arg);
      },
      holder);
  const size_t at = this->length();
  const int rc = evbuffer_add_file_segment(ensure(), segment, 0, static_cast<ev_off_t>(length));
  evbuffer_file_segment_free(segment);  // the buffer holds its own reference
  if (rc == 0 && sendfile) noteSendfileAppended(at);
  return rc == 0;
}

void Buffer::noteSendfileAppended(size_t at) {
  if (!sendfile_untracked_ && sendfile_at_ == kNoSendfile) sendfile_at_ = at;
}

void Buffer::noteDrained(size_t length) {
  if (this->length() == 0) {
    sendfile_at_ = kNoSendfile;
    sendfile_untracked_ = false;
  } else if (sendfile_at_ != kNoSendfile) {
    if (length <= sendfile_at_) {
      sendfile_at_ -= length;
    } else {
      // Into or past the first range: where the next one starts is unknown.
      sendfile_at_ = kNoSendfile;
      sendfile_untracked_ = true;
    }
  }
}

void Buffer::move(Buffer& other) {
  if (other.buffer_ == nullptr) return;  // never held a byte
  const size_t before = length();
  evbuffer_add_buffer(ensure(), other.buffer_);
  if (other.sendfile_untracked_) {
    sendfile_untracked_ = true;
    sendfile_at_ = kNoSendfile;
  } else if (other.sendfile_at_ != kNoSendfile) {
    noteSendfileAppended(before + other.sendfile_at_);
  }
  other.sendfile_at_ = kNoSendfile;
  other.sendfile_untracked_ = false;
}

void Buffer::move(Buffer& other, size_t length) {
  if (other.buffer_ == nullptr || length == 0) return;
  const size_t before = this->length();
  const bool moves_sendfile = other.sendfile_untracked_ ||
                              (other.sendfile_at_ != kNoSendfile && other.sendfile_at_ < length);
  evbuffer_remove_buffer(other.buffer_, ensure(), length);
  if (moves_sendfile) {
    // Whether (and where) the moved part holds a range is not tracked.
    sendfile_untracked_ = true;
    sendfile_at_ = kNoSendfile;
  }
  other.noteDrained(this->length() - before);
}

size_t Buffer::length() const { return buffer_ == nullptr ? 0 : evbuffer_get_length(buffer_); }

void Buffer::drain(size_t length) {
  if (buffer_ == nullptr) return;
  const size_t before = this->length();
  evbuffer_drain(buffer_, length);
  noteDrained(before - this->length());
}

int Buffer::writeTo(int fd) {
  if (buffer_ == nullptr) return 0;  // nothing to write, as evbuffer_write says
  if (sendfile_at_ != kNoSendfile && sendfile_at_ > 0) {
    constexpr int kMaxVecs = 16;
    evbuffer_iovec vecs[kMaxVecs];
    const int chains =
        evbuffer_peek(buffer_, static_cast<ev_ssize_t>(sendfile_at_), nullptr, vecs, kMaxVecs);
    if (chains > 0 && chains <= kMaxVecs) {
      // The chains cover at least sendfile_at_ bytes; stop exactly there.
      size_t total = 0;
      for (int i = 0; i < chains; ++i) {
        vecs[i].iov_len = std::min(vecs[i].iov_len, sendfile_at_ - total);
        total += vecs[i].iov_len;
      }
      msghdr message{};
      static_assert(sizeof(iovec) == sizeof(evbuffer_iovec));
      message.msg_iov = reinterpret_cast<iovec*>(vecs);
      message.msg_iovlen = static_cast<size_t>(chains);
      const ssize_t n = ::sendmsg(fd, &message, MSG_MORE | MSG_NOSIGNAL);
      if (n > 0) drain(static_cast<size_t>(n));
      return static_cast<int>(n);
    }
  }
  const size_t before = length();
  const int n = evbuffer_write(buffer_, fd);
  if (n > 0) noteDrained(before - length());
  return n;
}

size_t Buffer::copyOut(void* out, size_t length) const {
  if (buffer_ == nullptr) return 0;
  ev_ssize_t n = evbuffer_copyout(buffer_, out, length);
  return n < 0 ? 0 : static_cast<size_t>(n);
}

const uint8_t* Buffer::linearize(size_t length) {
  return evbuffer_pullup(ensure(), static_cast<ev_ssize_t>(length));
}

int Buffer::peek(iovec* vecs, int max, size_t length) const {
  static_assert(sizeof(iovec) == sizeof(evbuffer_iovec));
  if (buffer_ == nullptr) return 0;
  return evbuffer_peek(buffer_, static_cast<ev_ssize_t>(length), nullptr,
                       reinterpret_cast<evbuffer_iovec*>(vecs), max);
}

ssize_t Buffer::search(std::string_view needle) const {
  if (buffer_ == nullptr) return -1;
  evbuffer_ptr p = evbuffer_search(buffer_, needle.data(), needle.size(), nullptr);
  return p.pos;
}

std::string Buffer::toString() const {
  std::string out(length(), '\0');
  if (!out.empty()) evbuffer_copyout(buffer_, out.data(), out.size());
  return out;
}

}  // namespace modgate::buffer
