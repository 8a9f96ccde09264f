#pragma once

#include <memory>
#include <set>
#include <string>
#include <unordered_map>

#include "source/common/http/filter.h"
#include "source/filters/auth/credentials.h"

namespace modgate::filters::auth {

// What the auth filter needs, as one immutable snapshot per config (or
// credentials file) change, posted to every worker.
struct AuthConfig {
  CredentialsSharedPtr credentials;  // null: no client_auth configured
  std::string realm = "modgate";
  // Listeners whose anonymous requests get 401.
  std::set<std::string> required_listeners;
};
using AuthConfigSharedPtr = std::shared_ptr<const AuthConfig>;

// The WWW-Authenticate challenges of a 401 from `realm` (Basic, which the
// go command answers from .netrc, and Bearer).
http::HeaderMap challengeHeaders(const std::string& realm);

// Verified Authorization values, per worker: a PBKDF2 check costs
// thousands of hash rounds, and the go command sends the same credentials
// on every request. Keyed by SHA-256 of the header value, so no secret is
// held in memory beyond the request; emptied when the credentials change
// and when full.
class VerifiedCache {
 public:
  std::optional<http::Identity> find(const CredentialsSharedPtr& credentials,
                                     const std::string& key) const;
  void insert(const CredentialsSharedPtr& credentials, std::string key, http::Identity identity);

 private:
  static constexpr size_t kMaxEntries = 1024;
  // Held, not just compared: a new Credentials can then never reuse the
  // address of the one these entries were verified against.
  CredentialsSharedPtr owner_;
  std::unordered_map<std::string, http::Identity> entries_;
};

// Establishes who a request comes from, before routing and policy: checks
// the Authorization header against the credentials (Basic and Bearer),
// records the identity and the request's principals (with the client
// certificate's) on the stream, and answers 401 with WWW-Authenticate to
// bad credentials, and to anonymous requests on listeners that require
// authentication. Credentials never reach a log.
class AuthFilter : public http::StreamFilter {
 public:
  AuthFilter(AuthConfigSharedPtr config, VerifiedCache& cache)
      : config_(std::move(config)), cache_(cache) {}

  void setCallbacks(http::StreamFilterCallbacks& callbacks) override { callbacks_ = &callbacks; }
  http::FilterHeadersStatus decodeHeaders(http::RequestHeaders& headers, bool end_stream) override;

 private:
  AuthConfigSharedPtr config_;
  VerifiedCache& cache_;
  http::StreamFilterCallbacks* callbacks_ = nullptr;
};

}  // namespace modgate::filters::auth
