#include "source/common/network/listener.h"

#include <event2/listener.h>

#include <cerrno>
#include <cstring>

#include "absl/strings/str_cat.h"

namespace modgate::network {

absl::StatusOr<std::unique_ptr<Listener>> Listener::create(event::Dispatcher& dispatcher,
                                                           const Address& address,
                                                           AcceptCb on_accept) {
  evconnlistener* raw =
      evconnlistener_new_bind(&dispatcher.base(), nullptr, nullptr,
                              LEV_OPT_CLOSE_ON_FREE | LEV_OPT_REUSEABLE | LEV_OPT_REUSEABLE_PORT |
                                  LEV_OPT_CLOSE_ON_EXEC | LEV_OPT_DISABLED,
                              1024, address.sockAddr(), static_cast<int>(address.length));
  if (raw == nullptr) {
    return absl::UnavailableError(
        absl::StrCat("cannot listen on ", address.toString(), ": ", strerror(errno)));
  }
  std::unique_ptr<Listener> listener(new Listener(raw, std::move(on_accept)));
  sockaddr_storage bound{};
  socklen_t length = sizeof(bound);
  getsockname(evconnlistener_get_fd(raw), reinterpret_cast<sockaddr*>(&bound), &length);
  listener->local_address_.storage = bound;
  listener->local_address_.length = length;
  evconnlistener_set_cb(raw, &Listener::onAccept, listener.get());
  return listener;
}

Listener::Listener(evconnlistener* listener, AcceptCb on_accept)
    : listener_(listener), on_accept_(std::move(on_accept)) {}

Listener::~Listener() { evconnlistener_free(listener_); }

void Listener::enable() { evconnlistener_enable(listener_); }

void Listener::disable() { evconnlistener_disable(listener_); }

void Listener::onAccept(evconnlistener*, int fd, struct sockaddr* address, int, void* arg) {
  auto* self = static_cast<Listener*>(arg);
  self->on_accept_(fd, addressToString(address));
}

}  // namespace modgate::network
