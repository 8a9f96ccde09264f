#pragma once

#include <sys/socket.h>

#include "source/common/network/connection.h"

struct bufferevent;

namespace modgate::network {

// A plain TCP connection over a libevent socket bufferevent.
class SocketConnection : public Connection {
 public:
  // Wraps an accepted (connected) socket.
  SocketConnection(event::Dispatcher& dispatcher, int fd, std::string remote_address);
  // Starts a non-blocking connect to `address`; kConnected or kRemoteClose
  // follows.
  static std::unique_ptr<SocketConnection> connect(event::Dispatcher& dispatcher,
                                                   const sockaddr* address, socklen_t length,
                                                   std::string remote_address);
  ~SocketConnection() override;

  void setCallbacks(ConnectionCallbacks& callbacks) override { callbacks_ = &callbacks; }
  void write(buffer::Buffer& data) override;
  size_t bufferedWriteBytes() const override;
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
  SocketConnection(event::Dispatcher& dispatcher, bufferevent* bev, std::string remote_address,
                   State state);
  static void onRead(bufferevent* bev, void* arg);
  static void onWrite(bufferevent* bev, void* arg);
  static void onEventCb(bufferevent* bev, short what, void* arg);
  void closeNow(ConnectionEvent event);
  void deliverPendingThenClose();
  void checkWatermarks();

  event::Dispatcher& dispatcher_;
  bufferevent* bev_;
  std::string remote_address_;
  State state_;
  ConnectionCallbacks* callbacks_ = nullptr;
  size_t low_watermark_ = 16 * 1024;
  size_t high_watermark_ = 1024 * 1024;
  bool above_high_watermark_ = false;
  bool read_disabled_ = false;
  // EOF/error seen while reading was disabled with input still unread.
  bool peer_closed_ = false;
  const uint64_t id_;
};

}  // namespace modgate::network
