#include "source/common/network/listener.h"

#include <event2/listener.h>
#include <event2/util.h>
#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "source/common/common/logger.h"

namespace modgate::network {

absl::StatusOr<std::unique_ptr<ListenSocket>> ListenSocket::bind(const Address& address) {
  auto failed = [&address](const char* what) {
    return absl::UnavailableError(
        absl::StrCat("cannot listen on ", address.toString(), ": ", what, strerror(errno)));
  };
  int fd = ::socket(address.storage.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return failed("socket: ");
  int one = 1;
  // SO_REUSEPORT: every worker binds its own socket on the address and the
  // kernel spreads connections over them.
  if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) != 0 ||
      setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one)) != 0) {
    auto status = failed("setsockopt: ");
    ::close(fd);
    return status;
  }
  if (::bind(fd, address.sockAddr(), address.length) != 0 || ::listen(fd, 1024) != 0) {
    auto status = failed("");
    ::close(fd);
    return status;
  }
  Address local;
  sockaddr_storage bound{};
  socklen_t length = sizeof(bound);
  getsockname(fd, reinterpret_cast<sockaddr*>(&bound), &length);
  local.storage = bound;
  local.length = length;
  return std::unique_ptr<ListenSocket>(new ListenSocket(fd, local));
}

ListenSocket::~ListenSocket() {
  if (fd_ >= 0) ::close(fd_);
}

int ListenSocket::release() {
  int fd = fd_;
  fd_ = -1;
  return fd;
}

absl::StatusOr<std::unique_ptr<Listener>> Listener::create(event::Dispatcher& dispatcher,
                                                           const Address& address,
                                                           AcceptCb on_accept) {
  auto socket = ListenSocket::bind(address);
  if (!socket.ok()) return socket.status();
  return create(dispatcher, std::move(*socket), std::move(on_accept));
}

absl::StatusOr<std::unique_ptr<Listener>> Listener::create(event::Dispatcher& dispatcher,
                                                           ListenSocketPtr socket,
                                                           AcceptCb on_accept) {
  const Address local = socket->localAddress();
  int fd = socket->release();
  // Backlog 0: the socket is already listening.
  evconnlistener* raw =
      evconnlistener_new(&dispatcher.base(), nullptr, nullptr,
                         LEV_OPT_CLOSE_ON_FREE | LEV_OPT_CLOSE_ON_EXEC | LEV_OPT_DISABLED, 0, fd);
  if (raw == nullptr) {
    ::close(fd);
    return absl::UnavailableError(
        absl::StrCat("cannot accept on ", local.toString(), ": ", strerror(errno)));
  }
  std::unique_ptr<Listener> listener(new Listener(dispatcher, raw, std::move(on_accept)));
  listener->local_address_ = local;
  evconnlistener_set_cb(raw, &Listener::onAccept, listener.get());
  evconnlistener_set_error_cb(raw, &Listener::onAcceptError);
  return listener;
}

Listener::Listener(event::Dispatcher& dispatcher, evconnlistener* listener, AcceptCb on_accept)
    : dispatcher_(dispatcher), listener_(listener), on_accept_(std::move(on_accept)) {}

Listener::~Listener() { evconnlistener_free(listener_); }

void Listener::enable() {
  wanted_enabled_ = true;
  if (!acceptPaused()) evconnlistener_enable(listener_);
}

void Listener::disable() {
  wanted_enabled_ = false;
  evconnlistener_disable(listener_);
}

void Listener::onAccept(evconnlistener*, int fd, struct sockaddr* address, int, void* arg) {
  auto* self = static_cast<Listener*>(arg);
  self->on_accept_(fd, addressToString(address));
}

void Listener::onAcceptError(evconnlistener*, void* arg) {
  // libevent passes the argument given to evconnlistener_set_cb.
  static_cast<Listener*>(arg)->pauseAfterError(EVUTIL_SOCKET_ERROR());
}

void Listener::pauseAfterError(int error) {
  evconnlistener_disable(listener_);
  if (pause_timer_ == nullptr) {
    pause_timer_ = dispatcher_.createTimer([this] {
      if (wanted_enabled_) evconnlistener_enable(listener_);
    });
  }
  pause_timer_->enableTimer(kAcceptErrorPause);
  if (on_error_) on_error_(error);
  // One line per interval, with how many failures it stands for: a full
  // descriptor table lasts as long as the clients holding it.
  constexpr std::chrono::seconds kLogInterval{10};
  ++errors_not_logged_;
  const auto now = std::chrono::steady_clock::now();
  if (last_logged_ == std::chrono::steady_clock::time_point{} ||
      now - last_logged_ >= kLogInterval) {
    LOG_WARN("accept on ", local_address_.toString(), " failed: ", strerror(error), " (",
             errors_not_logged_, " time(s) since the last such line); not accepting for ",
             kAcceptErrorPause.count(), " ms");
    errors_not_logged_ = 0;
    last_logged_ = now;
  }
}

}  // namespace modgate::network
