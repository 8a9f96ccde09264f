#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "source/common/tls/ssl_ptr.h"

namespace modgate::tls {

struct ClientContextConfig {
  // PEM file of trust anchors.
  std::string ca_file = "/etc/ssl/certs/ca-certificates.crt";
  // Verify the peer's chain and name. Off only for tests and explicit
  // operator opt-out.
  bool verify = true;
  // ALPN protocols to offer, most preferred first ("h2", "http/1.1").
  std::vector<std::string> alpn;
  // When set, the name sent as SNI and verified in the certificate instead
  // of the URL's host (an origin reached by IP, or through a tunnel).
  std::string sni;
  // A client certificate (PEM chain, leaf first, and its key) sent when the
  // server asks for one (mTLS). Both or neither.
  std::string certificate_chain_file;
  std::string private_key_file;
};

// TLS client settings shared by every upstream connection of one HTTP
// client: one SSL_CTX (trust store, TLS 1.2+, ALPN offer). Dispatcher-thread
// agnostic: BoringSSL's SSL_CTX may be used from several threads.
class ClientContext {
 public:
  static absl::StatusOr<std::unique_ptr<ClientContext>> create(const ClientContextConfig& config);

  // A client session for `server_name` (host name or IP literal): SNI for
  // names, and, when verifying, a check that the leaf certificate names
  // `server_name`.
  absl::StatusOr<SslPtr> newSsl(std::string_view server_name) const;

  bool verify() const { return verify_; }
  const std::vector<std::string>& alpn() const { return alpn_; }

 private:
  ClientContext(SslCtxPtr ctx, bool verify, std::vector<std::string> alpn, std::string sni)
      : ctx_(std::move(ctx)), verify_(verify), alpn_(std::move(alpn)), sni_(std::move(sni)) {}

  SslCtxPtr ctx_;
  bool verify_;
  std::vector<std::string> alpn_;
  std::string sni_;
};

}  // namespace modgate::tls
