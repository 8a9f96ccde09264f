#pragma once

#include <string>
#include <string_view>
#include <vector>

struct x509_st;

namespace modgate::tls {

// The names a certificate carries, as routes, policy and logs use them.
struct CertificateNames {
  // The subject in RFC 2253 form, e.g. "CN=builder,O=Acme".
  std::string subject;
  // subjectAltName entries by type.
  std::vector<std::string> dns;
  // URI SANs, e.g. SPIFFE IDs "spiffe://cluster.local/ns/ci/sa/builder".
  std::vector<std::string> uri;
};

CertificateNames namesOf(x509_st* certificate);

// Whether a DNS name (an SNI) is covered by a certificate name: equal
// ignoring case, or "*.example.com" covering exactly one more label.
bool dnsNameMatches(std::string_view pattern, std::string_view name);

}  // namespace modgate::tls
