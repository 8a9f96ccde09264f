#include "source/common/network/socket_connection.h"

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <netinet/in.h>
#include <netinet/tcp.h>

#include <atomic>

namespace modgate::network {
namespace {
std::atomic<uint64_t> next_connection_id{1};
}

SocketConnection::SocketConnection(event::Dispatcher& dispatcher, int fd,
                                   std::string remote_address)
    : SocketConnection(dispatcher,
                       bufferevent_socket_new(&dispatcher.base(), fd, BEV_OPT_CLOSE_ON_FREE),
                       std::move(remote_address), State::kOpen) {
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
}

SocketConnection::SocketConnection(event::Dispatcher& dispatcher, bufferevent* bev,
                                   std::string remote_address, State state)
    : dispatcher_(dispatcher),
      bev_(bev),
      remote_address_(std::move(remote_address)),
      state_(state),
      id_(next_connection_id++) {
  bufferevent_setcb(bev_, &SocketConnection::onRead, &SocketConnection::onWrite,
                    &SocketConnection::onEventCb, this);
  bufferevent_setwatermark(bev_, EV_WRITE, low_watermark_, 0);
  // libevent caps each read and write at 16 KiB by default, so a 64 KiB
  // cache hit took five writev() calls and event-loop turns (the 64 KiB zip
  // benchmark). Let one call move as much as the kernel takes.
  bufferevent_set_max_single_write(bev_, 4 << 20);
  bufferevent_set_max_single_read(bev_, 256 << 10);
  bufferevent_enable(bev_, EV_READ | EV_WRITE);
}

std::unique_ptr<SocketConnection> SocketConnection::connect(event::Dispatcher& dispatcher,
                                                            const sockaddr* address,
                                                            socklen_t length,
                                                            std::string remote_address) {
  bufferevent* bev = bufferevent_socket_new(&dispatcher.base(), -1, BEV_OPT_CLOSE_ON_FREE);
  std::unique_ptr<SocketConnection> connection(
      new SocketConnection(dispatcher, bev, std::move(remote_address), State::kConnecting));
  // Errors surface as a BEV_EVENT_ERROR callback, as for a refused connect.
  if (bufferevent_socket_connect(bev, const_cast<sockaddr*>(address), length) == 0) {
    int fd = bufferevent_getfd(bev);
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  } else {
    connection->state_ = State::kClosing;
    // Report asynchronously so the caller can set callbacks first.
    bufferevent_trigger_event(bev, BEV_EVENT_ERROR, BEV_TRIG_DEFER_CALLBACKS);
  }
  return connection;
}

SocketConnection::~SocketConnection() {
  if (bev_ != nullptr) bufferevent_free(bev_);
}

void SocketConnection::write(buffer::Buffer& data) {
  if (state_ == State::kClosed) {
    data.drain(data.length());
    return;
  }
  bufferevent_write_buffer(bev_, data.raw());
  checkWatermarks();
}

size_t SocketConnection::bufferedWriteBytes() const {
  return bev_ == nullptr ? 0 : evbuffer_get_length(bufferevent_get_output(bev_));
}

void SocketConnection::setWriteBufferWatermarks(size_t low, size_t high) {
  low_watermark_ = low;
  high_watermark_ = high;
  if (bev_ == nullptr) return;
  bufferevent_setwatermark(bev_, EV_WRITE, low_watermark_, 0);
}

void SocketConnection::checkWatermarks() {
  if (!above_high_watermark_ && bufferedWriteBytes() > high_watermark_) {
    above_high_watermark_ = true;
    if (callbacks_ != nullptr) callbacks_->onAboveWriteBufferHighWatermark();
  }
}

void SocketConnection::readDisable(bool disable) {
  if (state_ == State::kClosed || read_disabled_ == disable) return;
  read_disabled_ = disable;
  if (disable) {
    bufferevent_disable(bev_, EV_READ);
  } else {
    if (peer_closed_) {
      // The peer closed while we were not reading: deliver what it sent,
      // then the close.
      deliverPendingThenClose();
      return;
    }
    bufferevent_enable(bev_, EV_READ);
    // Data may already be waiting in the input buffer.
    if (evbuffer_get_length(bufferevent_get_input(bev_)) > 0) {
      bufferevent_trigger(bev_, EV_READ, BEV_TRIG_DEFER_CALLBACKS | BEV_TRIG_IGNORE_WATERMARKS);
    }
  }
}

void SocketConnection::close(CloseType type) {
  if (state_ == State::kClosed) return;
  // Already flushing: a second flush-close must not discard the output.
  if (state_ == State::kClosing && type == CloseType::kFlushWrite) return;
  if (type == CloseType::kFlushWrite && state_ == State::kOpen && bufferedWriteBytes() > 0) {
    // onWrite finishes the close once the output drained.
    state_ = State::kClosing;
    bufferevent_disable(bev_, EV_READ);
    bufferevent_setwatermark(bev_, EV_WRITE, 0, 0);
    return;
  }
  closeNow(ConnectionEvent::kLocalClose);
}

void SocketConnection::closeNow(ConnectionEvent event) {
  if (state_ == State::kClosed) return;
  state_ = State::kClosed;
  bufferevent_disable(bev_, EV_READ | EV_WRITE);
  // Free the socket now so the peer sees the close at once; the object
  // itself lives until its owner deletes it.
  bufferevent_free(bev_);
  bev_ = nullptr;
  if (callbacks_ != nullptr) callbacks_->onEvent(event);
}

void SocketConnection::onRead(bufferevent* bev, void* arg) {
  auto* self = static_cast<SocketConnection*>(arg);
  if (self->state_ != State::kOpen || self->read_disabled_) return;
  buffer::Buffer input = buffer::Buffer::borrow(bufferevent_get_input(bev));
  if (self->callbacks_ != nullptr) self->callbacks_->onData(input);
}

void SocketConnection::onWrite(bufferevent*, void* arg) {
  auto* self = static_cast<SocketConnection*>(arg);
  if (self->state_ == State::kClosing) {
    if (self->bufferedWriteBytes() == 0) self->closeNow(ConnectionEvent::kLocalClose);
    return;
  }
  if (self->above_high_watermark_ && self->bufferedWriteBytes() <= self->low_watermark_) {
    self->above_high_watermark_ = false;
    if (self->callbacks_ != nullptr) self->callbacks_->onBelowWriteBufferLowWatermark();
  }
}

void SocketConnection::onEventCb(bufferevent*, short what, void* arg) {
  auto* self = static_cast<SocketConnection*>(arg);
  if (what & BEV_EVENT_CONNECTED) {
    if (self->state_ == State::kConnecting) {
      self->state_ = State::kOpen;
      int fd = bufferevent_getfd(self->bev_);
      int one = 1;
      setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
      if (self->callbacks_ != nullptr) self->callbacks_->onEvent(ConnectionEvent::kConnected);
    }
    return;
  }
  if (what & (BEV_EVENT_EOF | BEV_EVENT_ERROR)) {
    if (self->state_ == State::kOpen && self->read_disabled_ && self->bev_ != nullptr &&
        evbuffer_get_length(bufferevent_get_input(self->bev_)) > 0) {
      // The reader paused with bytes unread: keep them (and the close)
      // until it resumes.
      self->peer_closed_ = true;
      bufferevent_disable(self->bev_, EV_READ);
      return;
    }
    self->deliverPendingThenClose();
  }
}

void SocketConnection::deliverPendingThenClose() {
  // Deliver bytes that arrived just before the close.
  if (state_ == State::kOpen && bev_ != nullptr &&
      evbuffer_get_length(bufferevent_get_input(bev_)) > 0 && callbacks_ != nullptr) {
    buffer::Buffer input = buffer::Buffer::borrow(bufferevent_get_input(bev_));
    callbacks_->onData(input);
    if (state_ == State::kClosed) return;
  }
  closeNow(ConnectionEvent::kRemoteClose);
}

}  // namespace modgate::network
