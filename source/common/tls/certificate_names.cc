#include "source/common/tls/certificate_names.h"

#include "absl/strings/match.h"
#include "source/common/tls/boringssl.h"

namespace modgate::tls {
namespace {

std::string asString(const ASN1_STRING* value) {
  return std::string(reinterpret_cast<const char*>(ASN1_STRING_get0_data(value)),
                     static_cast<size_t>(ASN1_STRING_length(value)));
}

std::string rfc2253(X509_NAME* name) {
  BIO* bio = BIO_new(BIO_s_mem());
  if (bio == nullptr) return "";
  X509_NAME_print_ex(bio, name, 0, XN_FLAG_RFC2253);
  const uint8_t* data = nullptr;
  size_t length = 0;
  BIO_mem_contents(bio, &data, &length);
  std::string text(reinterpret_cast<const char*>(data), length);
  BIO_free(bio);
  return text;
}

}  // namespace

CertificateNames namesOf(X509* certificate) {
  CertificateNames names;
  if (certificate == nullptr) return names;
  names.subject = rfc2253(X509_get_subject_name(certificate));
  auto* sans = static_cast<GENERAL_NAMES*>(
      X509_get_ext_d2i(certificate, NID_subject_alt_name, nullptr, nullptr));
  if (sans == nullptr) return names;
  for (size_t i = 0; i < sk_GENERAL_NAME_num(sans); ++i) {
    const GENERAL_NAME* san = sk_GENERAL_NAME_value(sans, i);
    if (san->type == GEN_DNS) names.dns.push_back(asString(san->d.dNSName));
    if (san->type == GEN_URI) names.uri.push_back(asString(san->d.uniformResourceIdentifier));
  }
  GENERAL_NAMES_free(sans);
  return names;
}

bool dnsNameMatches(std::string_view pattern_view, std::string_view name_view) {
  // Debian's abseil has its own string_view type.
  absl::string_view pattern(pattern_view.data(), pattern_view.size());
  absl::string_view name(name_view.data(), name_view.size());
  if (absl::EqualsIgnoreCase(pattern, name)) return true;
  if (!absl::StartsWith(pattern, "*.")) return false;
  size_t dot = name.find('.');
  if (dot == absl::string_view::npos || dot == 0) return false;
  return absl::EqualsIgnoreCase(pattern.substr(1), name.substr(dot));
}

}  // namespace modgate::tls
