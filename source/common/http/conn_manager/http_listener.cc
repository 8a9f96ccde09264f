#include "source/common/http/conn_manager/http_listener.h"

#include <unistd.h>

#include <vector>

#include "source/common/network/socket_connection.h"

namespace modgate::http {

absl::StatusOr<std::unique_ptr<HttpListener>> HttpListener::create(
    event::Dispatcher& dispatcher, const network::Address& address, FilterChainFactory& filters,
    const ConnectionManagerSettings& settings, TransportFactory transport) {
  std::unique_ptr<HttpListener> self(
      new HttpListener(dispatcher, filters, settings, std::move(transport)));
  HttpListener* raw = self.get();
  auto listener = network::Listener::create(dispatcher, address, [raw](int fd, std::string remote) {
    raw->onAccept(fd, std::move(remote));
  });
  if (!listener.ok()) return listener.status();
  self->listener_ = std::move(*listener);
  self->listener_->enable();
  return self;
}

HttpListener::HttpListener(event::Dispatcher& dispatcher, FilterChainFactory& filters,
                           const ConnectionManagerSettings& settings, TransportFactory transport)
    : dispatcher_(dispatcher),
      filters_(filters),
      settings_(settings),
      transport_(std::move(transport)) {
  if (!transport_) {
    transport_ = [](event::Dispatcher& dispatcher, int fd, std::string remote) {
      return std::make_unique<network::SocketConnection>(dispatcher, fd, std::move(remote));
    };
  }
}

HttpListener::~HttpListener() = default;

void HttpListener::onAccept(int fd, std::string remote_address) {
  if (draining_) {
    ::close(fd);
    return;
  }
  network::ConnectionPtr connection = transport_(dispatcher_, fd, std::move(remote_address));
  if (connection == nullptr) return;
  auto manager = std::make_unique<ConnectionManager>(
      std::move(connection), filters_, settings_, [this](ConnectionManager& closed) {
        auto it = connections_.find(&closed);
        if (it == connections_.end()) return;
        // The manager may be on the stack: free it after this iteration.
        dispatcher_.deferredDelete(std::move(it->second));
        connections_.erase(it);
      });
  ConnectionManager* raw = manager.get();
  connections_.emplace(raw, std::move(manager));
}

void HttpListener::drain() {
  draining_ = true;
  if (listener_ != nullptr) listener_->disable();
  std::vector<ConnectionManager*> all;
  for (auto& [raw, manager] : connections_) all.push_back(raw);
  for (ConnectionManager* manager : all) {
    if (connections_.count(manager) != 0) manager->drain();
  }
}

}  // namespace modgate::http
