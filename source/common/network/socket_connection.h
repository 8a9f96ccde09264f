#pragma once

#include <sys/socket.h>

#include "source/common/network/connection.h"

struct event;

namespace modgate::network {

// A plain TCP connection on a non-blocking socket, driven by one
// edge-triggered libevent event registered once for both directions.
//
// Why not a bufferevent: a bufferevent adds EPOLLOUT with epoll_ctl() for
// every response and removes it when the output drains, and sizes every read
// with ioctl(FIONREAD): five syscalls per small keep-alive request where two
// (read, writev) do. The warm .info benchmark (tools/bench, HTTP/1.1 x64)
// spent ~30% of its syscall time in those epoll_ctl calls.
//
// Writes are deferred, as in Envoy: write() queues the bytes and the socket
// is written once at the end of the current callback (or, when another
// connection's callback wrote, later in the same event-loop iteration), so
// everything a request produced leaves in one writev.
class SocketConnection : public Connection {
 public:
  // Wraps an accepted, connected, non-blocking socket.
  SocketConnection(event::Dispatcher& dispatcher, int fd, std::string remote_address);
  // Starts a non-blocking connect to `address`; kConnected or kRemoteClose
  // follows, never from inside this call.
  static std::unique_ptr<SocketConnection> connect(event::Dispatcher& dispatcher,
                                                   const sockaddr* address, socklen_t length,
                                                   std::string remote_address);
  ~SocketConnection() override;

  void setCallbacks(ConnectionCallbacks& callbacks) override { callbacks_ = &callbacks; }
  void write(buffer::Buffer& data) override;
  size_t bufferedWriteBytes() const override { return output_.length(); }
  uint64_t bytesWritten() const override { return bytes_written_; }
  void setWriteBufferWatermarks(size_t low, size_t high) override;
  void readDisable(bool disable) override;
  void close(CloseType type) override;
  bool isOpen() const override { return state_ != State::kClosed; }
  const std::string& remoteAddress() const override { return remote_address_; }
  std::string_view negotiatedProtocol() const override { return {}; }
  bool supportsSendfile() const override { return true; }
  event::Dispatcher& dispatcher() override { return dispatcher_; }
  uint64_t id() const override { return id_; }

 private:
  enum class State { kConnecting, kOpen, kClosing, kClosed };
  SocketConnection(event::Dispatcher& dispatcher, int fd, std::string remote_address, State state);

  static void onSocketEvent(int fd, short what, void* arg);
  void handleEvents(short what);
  // Finishes a connect; false if the connection was destroyed.
  bool onConnectDone(short what);
  // Reads what the socket has and hands it to the callbacks; false if the
  // connection was destroyed.
  bool readAndDeliver();
  // Writes queued output until it is empty or the socket is full; false if
  // the connection was destroyed.
  bool flush();
  // Arranges a flush later in this event-loop iteration.
  void scheduleFlush();
  void closeNow(ConnectionEvent event);
  void checkHighWatermark();

  event::Dispatcher& dispatcher_;
  int fd_;
  ::event* event_ = nullptr;
  // Zero-delay timer that resumes reading in the next loop iteration after
  // one event read its fill (so one busy peer cannot starve the others);
  // created on first use.
  ::event* resume_read_ = nullptr;
  buffer::Buffer input_;
  buffer::Buffer output_;
  std::string remote_address_;
  State state_;
  ConnectionCallbacks* callbacks_ = nullptr;
  size_t low_watermark_ = 16 * 1024;
  size_t high_watermark_ = 1024 * 1024;
  // Set by the destructor so an event handler on the stack knows to stop.
  bool* destroyed_ = nullptr;
  // Connect failed synchronously; reported from the event loop.
  int connect_errno_ = 0;
  bool above_high_watermark_ = false;
  bool read_disabled_ = false;
  // The socket may hold unread bytes or an EOF: with edge triggering no new
  // event comes for them, so a resumed reader must read first.
  bool read_ready_ = true;
  // The last write was cut short by a full socket; wait for EV_WRITE.
  bool write_blocked_ = false;
  // The last read filled its buffer: read straight into input_.
  bool bulk_reads_ = false;
  // Hand input_ to the callbacks even if no new bytes arrive (resumed).
  bool deliver_buffered_ = false;
  bool in_handler_ = false;
  bool flush_scheduled_ = false;
  // EPOLLRDHUP seen: reads go on to the EOF instead of stopping short.
  bool peer_sent_fin_ = false;
  // The event may have been an error (a reset): libevent reports EPOLLERR
  // as EV_READ|EV_WRITE, without EV_CLOSED, so a short read does not prove
  // the socket holds nothing more.
  bool event_may_be_error_ = false;
  const uint64_t id_;
  uint64_t bytes_written_ = 0;
};

}  // namespace modgate::network
