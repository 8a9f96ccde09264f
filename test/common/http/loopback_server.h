#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <thread>

#include "source/common/event/dispatcher_impl.h"
#include "source/common/network/listener.h"
#include "test/common/http/loopback_connection.h"

namespace modgate::http::testing {

// The protocol-neutral half of a test server: a listener on
// 127.0.0.1:<ephemeral>, its own dispatcher thread, and ownership of the
// accepted connections, which `factory` builds for each new socket. The HTTP/1
// and HTTP/2 test servers hold one as their last member, so it stops (and
// closes every connection) before anything the connections refer to goes.
class LoopbackServer {
 public:
  using ConnectionFactory =
      std::function<std::unique_ptr<LoopbackConnection>(int fd, std::string remote_address)>;

  // Starts listening and running the dispatcher; aborts if it cannot listen.
  LoopbackServer(std::string thread_name, ConnectionFactory factory);
  // Closes every open connection on the dispatcher thread, then joins it.
  ~LoopbackServer();

  uint16_t port() const { return port_; }
  int acceptedConnections() const { return accepted_.load(); }
  event::Dispatcher& dispatcher() { return dispatcher_; }

  // Runs `cb` on the dispatcher thread and waits for it.
  void runOnDispatcher(std::function<void()> cb);
  // Calls shutdownNotice() on every open connection and waits for it.
  void shutdownNoticeAll();
  // On the dispatcher thread: drops `connection` once the current callback
  // has returned (it is usually on the stack).
  void onConnectionClosed(LoopbackConnection& connection);

 private:
  void onAccept(int fd, std::string remote_address);
  // On the dispatcher thread; `cb` may close connections.
  void forEachConnection(const std::function<void(LoopbackConnection&)>& cb);

  const ConnectionFactory factory_;
  event::DispatcherImpl dispatcher_;
  std::unique_ptr<network::Listener> listener_;
  std::map<LoopbackConnection*, std::unique_ptr<LoopbackConnection>> connections_;
  std::atomic<int> accepted_{0};
  uint16_t port_ = 0;
  std::thread thread_;
};

}  // namespace modgate::http::testing
