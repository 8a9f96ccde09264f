#include "source/common/http/identity.h"

namespace modgate::http {

std::vector<std::string> principalsOf(const Identity& identity, const network::TlsInfo* tls) {
  std::vector<std::string> principals;
  switch (identity.method) {
    case Identity::Method::kBasic:
      principals.push_back("user:" + identity.name);
      break;
    case Identity::Method::kBearer:
      principals.push_back("token:" + identity.name);
      break;
    case Identity::Method::kNone:
      break;
  }
  if (tls != nullptr && tls->peer_certificate) {
    for (const auto& uri : tls->peer_uri_sans) principals.push_back(uri);
    for (const auto& dns : tls->peer_dns_sans) principals.push_back("dns:" + dns);
    principals.push_back("subject:" + tls->peer_subject);
  }
  return principals;
}

bool principalMatches(std::string_view pattern, const std::vector<std::string>& principals) {
  for (const auto& principal : principals) {
    if (pattern == "*" || pattern == principal) return true;
    if (!pattern.empty() && pattern.back() == '*' &&
        std::string_view(principal).substr(0, pattern.size() - 1) ==
            pattern.substr(0, pattern.size() - 1)) {
      return true;
    }
  }
  return false;
}

}  // namespace modgate::http
