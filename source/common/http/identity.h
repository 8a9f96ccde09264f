#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "source/common/network/connection.h"

namespace modgate::http {

// Who a request comes from, as the auth filter established it from its
// Authorization header. The client certificate, when there is one, is in
// StreamInfo::tls.
struct Identity {
  enum class Method { kNone, kBasic, kBearer };
  Method method = Method::kNone;
  // Basic: the user name; Bearer: the token's name in the credentials file
  // (never the token itself).
  std::string name;
};

// The principals a request can be matched by (routes, module policy):
// "user:<name>" (Basic), "token:<name>" (Bearer), and for a verified client
// certificate each URI SAN as it is ("spiffe://cluster.local/ns/ci/sa/b"),
// "dns:<name>" per DNS SAN and "subject:<RFC 2253 subject>". Empty for an
// anonymous request.
std::vector<std::string> principalsOf(const Identity& identity, const network::TlsInfo* tls);

// A configured principal pattern against a request's principals: "*" is
// any principal (an authenticated request), a trailing "*" a prefix
// ("spiffe://ci.example.com/*"), anything else exact.
bool principalMatches(std::string_view pattern, const std::vector<std::string>& principals);

}  // namespace modgate::http
