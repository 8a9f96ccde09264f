#include "source/common/tls/client_context.h"

#include <arpa/inet.h>

#include "absl/strings/str_cat.h"
#include "source/common/tls/boringssl.h"
#include "source/common/tls/ssl_error.h"

namespace modgate::tls {
namespace {

bool isIpLiteral(const std::string& host) {
  in6_addr v6;
  in_addr v4;
  return inet_pton(AF_INET, host.c_str(), &v4) == 1 || inet_pton(AF_INET6, host.c_str(), &v6) == 1;
}

}  // namespace

absl::StatusOr<std::unique_ptr<ClientContext>> ClientContext::create(
    const ClientContextConfig& config) {
  ERR_clear_error();
  SslCtxPtr ctx(SSL_CTX_new(TLS_method()));
  if (ctx == nullptr) return absl::InternalError("SSL_CTX_new: " + takeSslError());
  if (!SSL_CTX_set_min_proto_version(ctx.get(), TLS1_2_VERSION)) {
    return absl::InternalError("SSL_CTX_set_min_proto_version: " + takeSslError());
  }
  if (config.verify) {
    if (!SSL_CTX_load_verify_locations(ctx.get(), config.ca_file.c_str(), nullptr)) {
      return absl::InvalidArgumentError(
          absl::StrCat("cannot load CA file ", config.ca_file, ": ", takeSslError()));
    }
    SSL_CTX_set_verify(ctx.get(), SSL_VERIFY_PEER, nullptr);
  } else {
    SSL_CTX_set_verify(ctx.get(), SSL_VERIFY_NONE, nullptr);
  }
  if (!config.certificate_chain_file.empty() || !config.private_key_file.empty()) {
    if (!SSL_CTX_use_certificate_chain_file(ctx.get(), config.certificate_chain_file.c_str())) {
      return absl::InvalidArgumentError(
          absl::StrCat("client_certificate.certificate_chain_file: cannot use ",
                       config.certificate_chain_file, ": ", takeSslError()));
    }
    if (!SSL_CTX_use_PrivateKey_file(ctx.get(), config.private_key_file.c_str(),
                                     SSL_FILETYPE_PEM)) {
      return absl::InvalidArgumentError(
          absl::StrCat("client_certificate.private_key_file: cannot use ", config.private_key_file,
                       ": ", takeSslError()));
    }
    if (!SSL_CTX_check_private_key(ctx.get())) {
      return absl::InvalidArgumentError(
          absl::StrCat("client_certificate.private_key_file: ", config.private_key_file,
                       " does not match the certificate in ", config.certificate_chain_file));
    }
  }
  if (!config.alpn.empty()) {
    std::string wire;
    for (const std::string& protocol : config.alpn) {
      if (protocol.empty() || protocol.size() > 255) {
        return absl::InvalidArgumentError("bad ALPN protocol name");
      }
      wire.push_back(static_cast<char>(protocol.size()));
      wire += protocol;
    }
    // Unlike most of the API, 0 means success here.
    if (SSL_CTX_set_alpn_protos(ctx.get(), reinterpret_cast<const uint8_t*>(wire.data()),
                                wire.size()) != 0) {
      return absl::InternalError("SSL_CTX_set_alpn_protos: " + takeSslError());
    }
  }
  return std::unique_ptr<ClientContext>(
      new ClientContext(std::move(ctx), config.verify, config.alpn, config.sni));
}

absl::StatusOr<SslPtr> ClientContext::newSsl(std::string_view server_name) const {
  ERR_clear_error();
  SslPtr ssl(SSL_new(ctx_.get()));
  if (ssl == nullptr) return absl::InternalError("SSL_new: " + takeSslError());
  SSL_set_connect_state(ssl.get());
  std::string name = sni_.empty() ? std::string(server_name) : sni_;
  const bool ip = isIpLiteral(name);
  // RFC 6066: no SNI for IP literals.
  if (!ip && !name.empty() && !SSL_set_tlsext_host_name(ssl.get(), name.c_str())) {
    return absl::InvalidArgumentError("bad TLS server name: " + takeSslError());
  }
  if (verify_) {
    X509_VERIFY_PARAM* param = SSL_get0_param(ssl.get());
    int ok = ip ? X509_VERIFY_PARAM_set1_ip_asc(param, name.c_str())
                : X509_VERIFY_PARAM_set1_host(param, name.data(), name.size());
    if (!ok) return absl::InvalidArgumentError("cannot check TLS name " + name);
  }
  return ssl;
}

}  // namespace modgate::tls
