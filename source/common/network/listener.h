#pragma once

#include <chrono>
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

  // accept() failing for a reason other than a connection that went away
  // (EMFILE, ENFILE, ENOBUFS, ENOMEM: descriptors or memory exhausted)
  // pauses this listener for kAcceptErrorPause, then it tries again; the
  // waiting connections stay in the kernel's accept queue. Without the
  // pause libevent calls accept() again at once, and a full descriptor
  // table spins a core and floods the log (nginx pauses its accept events
  // for 500 ms likewise). `on_error` (may be empty) sees each failure's
  // errno, e.g. to count it.
  static constexpr std::chrono::milliseconds kAcceptErrorPause{250};
  using AcceptErrorCb = std::function<void(int error)>;
  void setAcceptErrorCallback(AcceptErrorCb on_error) { on_error_ = std::move(on_error); }
  bool acceptPaused() const { return pause_timer_ != nullptr && pause_timer_->enabled(); }

 private:
  Listener(event::Dispatcher& dispatcher, evconnlistener* listener, AcceptCb on_accept);
  static void onAccept(evconnlistener*, int fd, struct sockaddr* address, int length, void* arg);
  static void onAcceptError(evconnlistener*, void* arg);
  void pauseAfterError(int error);

  event::Dispatcher& dispatcher_;
  evconnlistener* listener_;
  AcceptCb on_accept_;
  AcceptErrorCb on_error_;
  Address local_address_;
  // What enable()/disable() asked for; the pause timer restores it.
  bool wanted_enabled_ = false;
  event::TimerPtr pause_timer_;
  // Failures since the last one logged: one warning per kLogInterval.
  uint64_t errors_not_logged_ = 0;
  std::chrono::steady_clock::time_point last_logged_{};
};

}  // namespace modgate::network
