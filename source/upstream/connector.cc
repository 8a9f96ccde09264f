#include "source/upstream/connector.h"

#include "absl/strings/str_cat.h"
#include "source/common/network/socket_connection.h"
#include "source/common/tls/tls_connection.h"
#include "source/upstream/deferred_delete.h"

namespace modgate::upstream {

Connector::Connector(event::Dispatcher& dispatcher, DnsResolver& resolver,
                     const tls::ClientContext* tls, std::string tls_error, Origin origin,
                     std::chrono::milliseconds timeout, ConnectCallbacks& callbacks)
    : dispatcher_(dispatcher),
      resolver_(resolver),
      tls_(tls),
      tls_error_(std::move(tls_error)),
      origin_(std::move(origin)),
      timeout_(timeout),
      callbacks_(callbacks) {
  timer_ = dispatcher_.createTimer([this] { onTimeout(); });
}

Connector::~Connector() { cancel(); }

void Connector::start() {
  if (origin_.tls() && tls_ == nullptr) {
    fail(FailureReason::kTlsFailure, tls_error_);
    return;
  }
  timer_->enableTimer(timeout_);
  query_ = resolver_.resolve(origin_.host, origin_.port,
                             [this](absl::StatusOr<std::vector<network::Address>> answer) {
                               query_ = nullptr;
                               onResolved(std::move(answer));
                             });
}

void Connector::cancel() {
  if (done_) return;
  done_ = true;
  timer_->disableTimer();
  if (query_ != nullptr) {
    query_->cancel();
    query_ = nullptr;
  }
  dropAttempt();
}

void Connector::onResolved(absl::StatusOr<std::vector<network::Address>> addresses) {
  if (done_) return;
  if (!addresses.ok()) {
    fail(FailureReason::kDnsFailure, std::string(addresses.status().message()));
    return;
  }
  addresses_ = std::move(*addresses);
  next_address_ = 0;
  tryNext();
}

void Connector::tryNext() {
  if (next_address_ >= addresses_.size()) {
    fail(FailureReason::kConnectFailure, last_error_.empty() ? "no address" : last_error_);
    return;
  }
  const network::Address& address = addresses_[next_address_++];
  std::string remote = address.toString();
  timer_->enableTimer(timeout_);
  network::ConnectionPtr socket = network::SocketConnection::connect(
      dispatcher_, address.sockAddr(), address.length, std::move(remote));
  if (origin_.tls()) {
    absl::StatusOr<tls::SslPtr> ssl = tls_->newSsl(origin_.host);
    if (!ssl.ok()) {
      deferDelete(dispatcher_, std::move(socket));
      fail(FailureReason::kTlsFailure, std::string(ssl.status().message()));
      return;
    }
    auto tls_connection = std::make_unique<tls::TlsConnection>(std::move(*ssl), std::move(socket));
    tls_attempt_ = tls_connection.get();
    attempt_ = std::move(tls_connection);
  } else {
    tls_attempt_ = nullptr;
    attempt_ = std::move(socket);
  }
  attempt_->setCallbacks(*this);
}

void Connector::onEvent(network::ConnectionEvent event) {
  if (done_ || attempt_ == nullptr) return;
  switch (event) {
    case network::ConnectionEvent::kConnected: {
      done_ = true;
      timer_->disableTimer();
      network::ConnectionPtr connection = std::move(attempt_);
      tls_attempt_ = nullptr;
      callbacks_.onConnected(std::move(connection));
      return;
    }
    case network::ConnectionEvent::kRemoteClose: {
      if (tls_attempt_ != nullptr && tls_attempt_->transportConnected()) {
        // TCP worked; the handshake or the certificate did not. Another
        // address would present the same certificate: stop here.
        std::string detail =
            absl::StrCat("TLS handshake with ", origin_.host, " (", attempt_->remoteAddress(),
                         ") failed: ", tls_attempt_->handshakeError());
        fail(FailureReason::kTlsFailure, detail);
        return;
      }
      last_error_ =
          absl::StrCat("cannot connect to ", origin_.host, " (", attempt_->remoteAddress(), ")");
      dropAttempt();
      tryNext();
      return;
    }
    case network::ConnectionEvent::kLocalClose:
      return;
  }
}

void Connector::onTimeout() {
  if (done_) return;
  if (query_ != nullptr) {
    query_->cancel();
    query_ = nullptr;
    fail(FailureReason::kTimeout, absl::StrCat("DNS lookup of ", origin_.host, " timed out"));
    return;
  }
  std::string remote = attempt_ != nullptr ? attempt_->remoteAddress() : std::string();
  bool handshaking = tls_attempt_ != nullptr && tls_attempt_->transportConnected();
  dropAttempt();
  last_error_ = absl::StrCat(handshaking ? "TLS handshake with " : "connect to ", origin_.host,
                             " (", remote, ") timed out");
  if (next_address_ < addresses_.size() && !handshaking) {
    tryNext();
    return;
  }
  fail(FailureReason::kTimeout, last_error_);
}

void Connector::dropAttempt() {
  if (attempt_ == nullptr) return;
  network::ConnectionPtr attempt = std::move(attempt_);
  tls_attempt_ = nullptr;
  // attempt_ is null, so the kLocalClose this raises is ignored.
  attempt->close(network::CloseType::kNoFlush);
  // We may be inside one of its callbacks.
  deferDelete(dispatcher_, std::move(attempt));
}

void Connector::fail(FailureReason reason, std::string detail) {
  if (done_) return;
  cancel();  // sets done_, closes the attempt
  callbacks_.onConnectFailure(reason, detail);
}

}  // namespace modgate::upstream
