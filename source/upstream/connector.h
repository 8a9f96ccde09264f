#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "source/common/event/dispatcher.h"
#include "source/common/network/address.h"
#include "source/common/network/connection.h"
#include "source/common/tls/client_context.h"
#include "source/upstream/dns_resolver.h"
#include "source/upstream/http_client.h"
#include "source/upstream/origin.h"

namespace modgate::tls {
class TlsConnection;
}

namespace modgate::upstream {

class ConnectCallbacks {
 public:
  virtual ~ConnectCallbacks() = default;
  // A connected (and for https, handshaken and verified) connection. The
  // callee sets its callbacks at once.
  virtual void onConnected(network::ConnectionPtr connection) = 0;
  virtual void onConnectFailure(FailureReason reason, std::string_view detail) = 0;
};

// Establishes one upstream connection: resolves the host, tries each address
// in turn (connect_timeout applies to the DNS lookup and to each address),
// and for https runs the TLS handshake with SNI, chain and name checks.
// Exactly one callback follows start() unless cancel() or destruction comes
// first. May be destroyed inside its callbacks only via deferred deletion.
class Connector : public event::DeferredDeletable, private network::ConnectionCallbacks {
 public:
  // `tls` may be null for https origins; then `tls_error` says why and the
  // attempt fails with kTlsFailure.
  Connector(event::Dispatcher& dispatcher, DnsResolver& resolver, const tls::ClientContext* tls,
            std::string tls_error, Origin origin, std::chrono::milliseconds timeout,
            ConnectCallbacks& callbacks);
  ~Connector() override;

  void start();
  // No callbacks after this; a connection being set up is closed.
  void cancel();

 private:
  void onResolved(absl::StatusOr<std::vector<network::Address>> addresses);
  void tryNext();
  void onTimeout();
  void dropAttempt();
  void fail(FailureReason reason, std::string detail);

  // network::ConnectionCallbacks (of the attempt)
  void onData(buffer::Buffer& data) override {}
  void onEvent(network::ConnectionEvent event) override;

  event::Dispatcher& dispatcher_;
  DnsResolver& resolver_;
  const tls::ClientContext* tls_;
  const std::string tls_error_;
  const Origin origin_;
  const std::chrono::milliseconds timeout_;
  ConnectCallbacks& callbacks_;
  DnsResolver::Query* query_ = nullptr;
  std::vector<network::Address> addresses_;
  size_t next_address_ = 0;
  network::ConnectionPtr attempt_;
  tls::TlsConnection* tls_attempt_ = nullptr;
  std::string last_error_;
  event::TimerPtr timer_;
  bool done_ = false;
};

}  // namespace modgate::upstream
