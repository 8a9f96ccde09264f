#pragma once

#include <functional>
#include <memory>

#include "absl/status/statusor.h"
#include "source/common/event/dispatcher.h"
#include "source/common/network/address.h"
#include "source/common/network/connection.h"

struct evconnlistener;

namespace modgate::network {

// A bound, listening TCP socket (SO_REUSEPORT) that nobody accepts on yet.
// The server binds every worker's socket on the main thread, so that a
// config reload whose address cannot be bound fails before it changes
// anything, then hands each socket to its worker's Listener.
class ListenSocket {
 public:
  static absl::StatusOr<std::unique_ptr<ListenSocket>> bind(const Address& address);
  ~ListenSocket();
  ListenSocket(const ListenSocket&) = delete;
  ListenSocket& operator=(const ListenSocket&) = delete;

  // The bound address (useful with port 0).
  const Address& localAddress() const { return local_address_; }
  // Gives up ownership of the descriptor.
  int release();

 private:
  ListenSocket(int fd, Address local) : fd_(fd), local_address_(local) {}
  int fd_;
  Address local_address_;
};
using ListenSocketPtr = std::unique_ptr<ListenSocket>;

// Accepts TCP connections on one dispatcher. Each worker owns its own
// listener on the same address (SO_REUSEPORT), so the kernel spreads
// connections across workers and a connection never changes thread.
class Listener {
 public:
  using AcceptCb = std::function<void(int fd, std::string remote_address)>;

  // Binds and wraps (on the dispatcher's thread, or before it runs).
  static absl::StatusOr<std::unique_ptr<Listener>> create(event::Dispatcher& dispatcher,
                                                          const Address& address,
                                                          AcceptCb on_accept);
  // Wraps a socket bound elsewhere; call on the dispatcher's thread (or
  // before it runs). Starts disabled.
  static absl::StatusOr<std::unique_ptr<Listener>> create(event::Dispatcher& dispatcher,
                                                          ListenSocketPtr socket,
                                                          AcceptCb on_accept);
  // Closes the socket: connections still in its accept queue are reset.
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
