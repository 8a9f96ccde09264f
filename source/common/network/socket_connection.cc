#include "source/common/network/socket_connection.h"

#include <errno.h>
#include <event2/buffer.h>
#include <event2/event.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <unistd.h>

#include <atomic>

namespace modgate::network {
namespace {
std::atomic<uint64_t> next_connection_id{1};

// Small reads (requests, acks) land in a per-thread scratch buffer and are
// copied into a right-sized chain; once a connection reads in bulk (bodies
// from an upstream) it reads straight into the input buffer instead.
constexpr size_t kScratchBytes = 16 * 1024;
constexpr size_t kBulkReadBytes = 64 * 1024;
// At most this much is read per event before yielding to other
// connections, as libevent's bufferevents did.
constexpr size_t kMaxReadPerEvent = 256 * 1024;

// Activations we make ourselves carry EV_TIMEOUT, so they never pass for
// socket readiness.
constexpr short kSelfActivation = EV_TIMEOUT;

void setNoDelay(int fd) {
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
}
}  // namespace

SocketConnection::SocketConnection(event::Dispatcher& dispatcher, int fd,
                                   std::string remote_address)
    : SocketConnection(dispatcher, fd, std::move(remote_address), State::kOpen) {
  setNoDelay(fd);
}

SocketConnection::SocketConnection(event::Dispatcher& dispatcher, int fd,
                                   std::string remote_address, State state)
    : dispatcher_(dispatcher),
      fd_(fd),
      remote_address_(std::move(remote_address)),
      state_(state),
      id_(next_connection_id++) {
  if (fd_ >= 0) {
    // Registered once for the connection's life: edge-triggered, so nothing
    // is re-armed per request. EV_CLOSED (EPOLLRDHUP) tells a FIN that
    // arrived together with data from a short read.
    event_ = event_new(&dispatcher.base(), fd_, EV_READ | EV_WRITE | EV_CLOSED | EV_PERSIST | EV_ET,
                       &SocketConnection::onSocketEvent, this);
    event_add(event_, nullptr);
  } else {
    // No socket (connect() could not create one): the event only carries
    // the failure report into the loop.
    event_ = event_new(&dispatcher.base(), -1, 0, &SocketConnection::onSocketEvent, this);
  }
}

std::unique_ptr<SocketConnection> SocketConnection::connect(event::Dispatcher& dispatcher,
                                                            const sockaddr* address,
                                                            socklen_t length,
                                                            std::string remote_address) {
  const int fd = ::socket(address->sa_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  const int socket_errno = errno;
  std::unique_ptr<SocketConnection> connection(
      new SocketConnection(dispatcher, fd, std::move(remote_address), State::kConnecting));
  if (fd < 0) {
    connection->connect_errno_ = socket_errno;
  } else {
    setNoDelay(fd);
    if (::connect(fd, address, length) != 0 && errno != EINPROGRESS) {
      connection->connect_errno_ = errno;
    }
  }
  // Success shows as EV_WRITE; a failure is reported from the loop too, so
  // the caller can set callbacks first.
  if (connection->connect_errno_ != 0) event_active(connection->event_, kSelfActivation, 1);
  return connection;
}

SocketConnection::~SocketConnection() {
  if (destroyed_ != nullptr) *destroyed_ = true;
  if (resume_read_ != nullptr) event_free(resume_read_);
  if (event_ != nullptr) event_free(event_);
  if (fd_ >= 0) ::close(fd_);
}

void SocketConnection::write(buffer::Buffer& data) {
  if (state_ == State::kClosed) {
    data.drain(data.length());
    return;
  }
  output_.move(data);
  checkHighWatermark();
  scheduleFlush();
}

void SocketConnection::scheduleFlush() {
  // Inside our own handler the flush happens on the way out; a blocked
  // socket is flushed by its EV_WRITE; a connecting one once connected.
  if (in_handler_ || flush_scheduled_ || write_blocked_ || state_ == State::kConnecting) return;
  flush_scheduled_ = true;
  event_active(event_, kSelfActivation, 1);
}

void SocketConnection::setWriteBufferWatermarks(size_t low, size_t high) {
  low_watermark_ = low;
  high_watermark_ = high;
}

void SocketConnection::checkHighWatermark() {
  if (!above_high_watermark_ && output_.length() > high_watermark_) {
    above_high_watermark_ = true;
    if (callbacks_ != nullptr) callbacks_->onAboveWriteBufferHighWatermark();
  }
}

void SocketConnection::readDisable(bool disable) {
  if (state_ == State::kClosed || read_disabled_ == disable) return;
  read_disabled_ = disable;
  if (disable) return;
  if (read_ready_ || input_.length() > 0) {
    // Bytes (or the close) that arrived while paused raise no new edge:
    // read and deliver them from the loop.
    read_ready_ = true;
    deliver_buffered_ = input_.length() > 0;
    event_active(event_, kSelfActivation, 1);
  }
}

void SocketConnection::close(CloseType type) {
  if (state_ == State::kClosed) return;
  // Already flushing: a second flush-close must not discard the output.
  if (state_ == State::kClosing && type == CloseType::kFlushWrite) return;
  if (type == CloseType::kFlushWrite && state_ == State::kOpen && output_.length() > 0) {
    // flush() finishes the close once the output drained.
    state_ = State::kClosing;
    scheduleFlush();
    return;
  }
  closeNow(ConnectionEvent::kLocalClose);
}

void SocketConnection::closeNow(ConnectionEvent event) {
  if (state_ == State::kClosed) return;
  state_ = State::kClosed;
  // Close the socket now so the peer sees it at once; the object itself
  // lives until its owner deletes it.
  event_free(event_);
  event_ = nullptr;
  if (resume_read_ != nullptr) {
    event_free(resume_read_);
    resume_read_ = nullptr;
  }
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
  output_.drain(output_.length());
  if (callbacks_ != nullptr) callbacks_->onEvent(event);
}

void SocketConnection::onSocketEvent(int, short what, void* arg) {
  static_cast<SocketConnection*>(arg)->handleEvents(what);
}

void SocketConnection::handleEvents(short what) {
  bool destroyed = false;
  destroyed_ = &destroyed;
  in_handler_ = true;
  flush_scheduled_ = false;
  if (what & EV_WRITE) write_blocked_ = false;
  if (what & (EV_READ | EV_CLOSED)) read_ready_ = true;
  // Remembered: the read that reaches the FIN may come in a later turn
  // (after a per-event read cap, or once reading resumes), and no new edge
  // announces it.
  if (what & EV_CLOSED) peer_sent_fin_ = true;
  event_may_be_error_ = (what & EV_READ) != 0 && (what & EV_WRITE) != 0 && !peer_sent_fin_;

  bool alive = true;
  if (state_ == State::kConnecting) alive = onConnectDone(what);
  if (alive && state_ == State::kOpen && read_ready_ && !read_disabled_) {
    alive = readAndDeliver();
  }
  // Everything the callbacks wrote leaves in one go (a callback run by
  // flush() may queue more).
  while (alive && (state_ == State::kOpen || state_ == State::kClosing) && !write_blocked_ &&
         output_.length() > 0) {
    alive = flush();
  }
  if (destroyed) return;
  destroyed_ = nullptr;
  in_handler_ = false;
}

bool SocketConnection::onConnectDone(short what) {
  int error = connect_errno_;
  if (error == 0) {
    // A connect still in progress raises no EV_WRITE (our own activations
    // do not carry it): keep waiting.
    if ((what & EV_WRITE) == 0) return true;
    socklen_t length = sizeof(error);
    if (getsockopt(fd_, SOL_SOCKET, SO_ERROR, &error, &length) != 0) error = errno;
  }
  bool* destroyed = destroyed_;
  if (error == 0) {
    state_ = State::kOpen;
    if (callbacks_ != nullptr) callbacks_->onEvent(ConnectionEvent::kConnected);
    return !*destroyed;
  }
  closeNow(ConnectionEvent::kRemoteClose);
  return !*destroyed;
}

bool SocketConnection::readAndDeliver() {
  static thread_local char scratch[kScratchBytes];
  bool* destroyed = destroyed_;
  size_t total = 0;
  bool eof = false;
  while (true) {
    ssize_t n;
    size_t asked;
    if (bulk_reads_) {
      evbuffer_iovec space;
      if (evbuffer_reserve_space(input_.raw(), kBulkReadBytes, &space, 1) != 1) abort();
      asked = space.iov_len;
      n = ::read(fd_, space.iov_base, asked);
      if (n > 0) {
        space.iov_len = static_cast<size_t>(n);
        evbuffer_commit_space(input_.raw(), &space, 1);
      }
    } else {
      asked = sizeof(scratch);
      n = ::read(fd_, scratch, asked);
      if (n > 0) input_.add(scratch, static_cast<size_t>(n));
    }
    if (n > 0) {
      total += static_cast<size_t>(n);
      bulk_reads_ = static_cast<size_t>(n) == asked;
      if (static_cast<size_t>(n) < asked && !peer_sent_fin_) {
        // A short read emptied the socket: anything arriving later raises a
        // new edge, so the EAGAIN read would be wasted.
        read_ready_ = false;
        break;
      }
      if (total >= kMaxReadPerEvent) {
        // Leave the rest for the next loop iteration.
        if (resume_read_ == nullptr) {
          resume_read_ = evtimer_new(
              &dispatcher_.base(),
              [](int, short, void* arg) {
                static_cast<SocketConnection*>(arg)->handleEvents(kSelfActivation);
              },
              this);
        }
        const timeval now{0, 0};
        evtimer_add(resume_read_, &now);
        break;
      }
      continue;
    }
    if (n == 0) {
      eof = true;
      break;
    }
    if (errno == EINTR) continue;
    if (errno == EAGAIN || errno == EWOULDBLOCK) {
      read_ready_ = false;
      break;
    }
    eof = true;  // ECONNRESET and friends: the peer is gone
    break;
  }
  if (input_.length() > 0 && callbacks_ != nullptr && (total > 0 || deliver_buffered_)) {
    deliver_buffered_ = false;
    callbacks_->onData(input_);
    if (*destroyed) return false;
  }
  if (!eof && event_may_be_error_ && !read_ready_ && state_ == State::kOpen && !read_disabled_ &&
      output_.length() == 0) {
    // A reset that arrived with the last bytes raises no further edge, and
    // nothing is being written that would fail on it (a TLS client that
    // sends its Finished and resets): read once more to find it, else the
    // socket stays open until the idle timeout. When an answer is queued,
    // its write finds the reset instead, at no extra read.
    event_may_be_error_ = false;
    read_ready_ = true;
    return readAndDeliver();
  }
  if (!eof || state_ != State::kOpen) return true;
  if (read_disabled_ && input_.length() > 0) {
    // The reader paused with bytes unread: keep them (and the close) until
    // it resumes; read_ready_ stays set, so the resumed read finds the EOF.
    return true;
  }
  // A client that half-closed right after its request still gets what is
  // already answered.
  if (output_.length() > 0 && !write_blocked_) {
    if (!flush()) return false;
    if (state_ == State::kClosed) return true;
  }
  closeNow(ConnectionEvent::kRemoteClose);
  return !*destroyed;
}

bool SocketConnection::flush() {
  bool* destroyed = destroyed_;
  while (output_.length() > 0) {
    // Memory runs go out with writev, file ranges with sendfile. libevent
    // reports a sendfile() that would block as 0 with errno set, and a file
    // that ended before its range as 0 without.
    errno = 0;
    const int n = output_.writeTo(fd_);
    if (n > 0) {
      bytes_written_ += static_cast<uint64_t>(n);
      continue;
    }
    if (errno == EINTR) continue;
    if (errno == EAGAIN || errno == EWOULDBLOCK) {
      write_blocked_ = true;
      break;
    }
    // An error, or a file that ended before its range did.
    closeNow(ConnectionEvent::kRemoteClose);
    return !*destroyed;
  }
  if (state_ == State::kClosing) {
    if (output_.length() == 0) {
      closeNow(ConnectionEvent::kLocalClose);
      return !*destroyed;
    }
    return true;
  }
  if (above_high_watermark_ && output_.length() <= low_watermark_) {
    above_high_watermark_ = false;
    if (callbacks_ != nullptr) callbacks_->onBelowWriteBufferLowWatermark();
    return !*destroyed;
  }
  return true;
}

}  // namespace modgate::network
