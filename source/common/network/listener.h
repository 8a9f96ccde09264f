#pragma once

#include <functional>
#include <memory>

#include "absl/status/statusor.h"
#include "source/common/event/dispatcher.h"
#include "source/common/network/address.h"
#include "source/common/network/connection.h"

struct evconnlistener;

namespace modgate::network {

// Accepts TCP connections on one dispatcher. Each worker owns its own
// listener on the same address (SO_REUSEPORT), so the kernel spreads
// connections across workers and a connection never changes thread.
class Listener {
 public:
  using AcceptCb = std::function<void(int fd, std::string remote_address)>;

  static absl::StatusOr<std::unique_ptr<Listener>> create(event::Dispatcher& dispatcher,
                                                          const Address& address,
                                                          AcceptCb on_accept);
  ~Listener();

  // The bound address (useful with port 0).
  const Address& localAddress() const { return local_address_; }
  void enable();
  void disable();

 private:
  Listener(evconnlistener* listener, AcceptCb on_accept);
  static void onAccept(evconnlistener*, int fd, struct sockaddr* address, int length, void* arg);

  evconnlistener* listener_;
  AcceptCb on_accept_;
  Address local_address_;
};

}  // namespace modgate::network
