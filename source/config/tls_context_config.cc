#include "source/config/tls_context_config.h"

#include "source/common/common/time.h"

namespace modgate::config {
namespace {

constexpr std::chrono::seconds kDefaultTicketRotation{3600};

uint16_t VersionOf(v1::DownstreamTls::Version version, uint16_t fallback) {
  switch (version) {
    case v1::DownstreamTls::TLS_1_2:
      return 0x0303;
    case v1::DownstreamTls::TLS_1_3:
      return 0x0304;
    default:
      return fallback;
  }
}

}  // namespace

tls::ServerContextConfig ServerContextConfigOf(const v1::DownstreamTls& tls,
                                               std::vector<std::string> default_alpn) {
  tls::ServerContextConfig out;
  for (const auto& certificate : tls.certificates()) {
    out.certificates.push_back(
        {certificate.certificate_chain_file(), certificate.private_key_file()});
  }
  if (tls.alpn_protocols_size() > 0) {
    out.alpn.assign(tls.alpn_protocols().begin(), tls.alpn_protocols().end());
  } else {
    out.alpn = std::move(default_alpn);
  }
  out.min_version = VersionOf(tls.min_version(), 0x0303);
  out.max_version = VersionOf(tls.max_version(), 0x0304);
  out.client_ca_file = tls.client_ca_file();
  using Mode = tls::ServerContextConfig::ClientCertificate;
  switch (tls.client_certificate()) {
    case v1::DownstreamTls::NONE:
      out.client_certificate = Mode::kNone;
      break;
    case v1::DownstreamTls::REQUEST:
      out.client_certificate = Mode::kRequest;
      break;
    case v1::DownstreamTls::REQUIRE:
      out.client_certificate = Mode::kRequire;
      break;
    default:
      out.client_certificate = out.client_ca_file.empty() ? Mode::kNone : Mode::kRequire;
  }
  return out;
}

std::chrono::seconds SessionTicketRotationOf(const v1::DownstreamTls& tls) {
  if (!tls.has_session_ticket_rotation()) return kDefaultTicketRotation;
  return std::chrono::duration_cast<std::chrono::seconds>(
      common::toMilliseconds(tls.session_ticket_rotation()));
}

tls::ClientContextConfig ClientContextConfigOf(const v1::UpstreamTls& tls,
                                               std::vector<std::string> alpn) {
  tls::ClientContextConfig out;
  if (!tls.ca_file().empty()) out.ca_file = tls.ca_file();
  out.verify = !tls.insecure_skip_verify();
  out.sni = tls.sni();
  out.certificate_chain_file = tls.client_certificate().certificate_chain_file();
  out.private_key_file = tls.client_certificate().private_key_file();
  out.alpn = std::move(alpn);
  return out;
}

}  // namespace modgate::config
