#pragma once

#include <functional>
#include <map>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "source/common/event/dispatcher.h"
#include "source/common/http/conn_manager/connection_manager.h"
#include "source/common/http/filter.h"
#include "source/common/network/address.h"
#include "source/common/network/connection.h"
#include "source/common/network/listener.h"

namespace modgate::http {

// One HTTP listener on one dispatcher, owning its connections: each accepted
// socket gets a ConnectionManager over `filters`. For single-threaded
// servers (the control plane, its admin); the proxy's workers have their own
// ConnectionHandler with reload and multi-listener bookkeeping.
//
// The transport is a factory, so TLS wraps the accepted socket without the
// listener knowing: by default a plain SocketConnection.
class HttpListener {
 public:
  using TransportFactory =
      std::function<network::ConnectionPtr(event::Dispatcher&, int fd, std::string remote)>;

  // Binds `address` and starts accepting. `filters` and `settings` must
  // outlive the listener.
  static absl::StatusOr<std::unique_ptr<HttpListener>> create(
      event::Dispatcher& dispatcher, const network::Address& address, FilterChainFactory& filters,
      const ConnectionManagerSettings& settings, TransportFactory transport = nullptr);
  ~HttpListener();

  const network::Address& localAddress() const { return listener_->localAddress(); }
  size_t connections() const { return connections_.size(); }
  // Stops accepting and drains every connection (GOAWAY; close once idle or
  // after the drain timeout).
  void drain();

 private:
  HttpListener(event::Dispatcher& dispatcher, FilterChainFactory& filters,
               const ConnectionManagerSettings& settings, TransportFactory transport);
  void onAccept(int fd, std::string remote_address);

  event::Dispatcher& dispatcher_;
  FilterChainFactory& filters_;
  const ConnectionManagerSettings& settings_;
  TransportFactory transport_;
  std::unique_ptr<network::Listener> listener_;
  std::map<ConnectionManager*, std::unique_ptr<ConnectionManager>> connections_;
  bool draining_ = false;
};

}  // namespace modgate::http
