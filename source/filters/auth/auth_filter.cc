#include "source/filters/auth/auth_filter.h"

#include "absl/strings/str_cat.h"
#include "source/common/tls/boringssl.h"

namespace modgate::filters::auth {
namespace {

std::string sha256Of(const std::string& text) {
  uint8_t digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const uint8_t*>(text.data()), text.size(), digest);
  return std::string(reinterpret_cast<const char*>(digest), sizeof(digest));
}

}  // namespace

http::HeaderMap challengeHeaders(const std::string& realm) {
  http::HeaderMap headers;
  headers.add("www-authenticate", absl::StrCat("Basic realm=\"", realm, "\""));
  headers.add("www-authenticate", absl::StrCat("Bearer realm=\"", realm, "\""));
  return headers;
}

std::optional<http::Identity> VerifiedCache::find(const CredentialsSharedPtr& credentials,
                                                  const std::string& key) const {
  if (credentials != owner_) return std::nullopt;
  auto it = entries_.find(key);
  if (it == entries_.end()) return std::nullopt;
  return it->second;
}

void VerifiedCache::insert(const CredentialsSharedPtr& credentials, std::string key,
                           http::Identity identity) {
  if (credentials != owner_ || entries_.size() >= kMaxEntries) {
    entries_.clear();
    owner_ = credentials;
  }
  entries_.emplace(std::move(key), std::move(identity));
}

http::FilterHeadersStatus AuthFilter::decodeHeaders(http::RequestHeaders& headers, bool) {
  http::StreamInfo& info = callbacks_->streamInfo();
  const std::string* authorization = headers.headers.get("authorization");
  if (authorization != nullptr && config_->credentials != nullptr) {
    std::string key = sha256Of(*authorization);
    std::optional<http::Identity> identity = cache_.find(config_->credentials, key);
    if (!identity.has_value()) {
      identity = config_->credentials->verify(*authorization);
      if (identity.has_value()) cache_.insert(config_->credentials, std::move(key), *identity);
    }
    if (!identity.has_value()) {
      callbacks_->sendLocalReply(401, "modgate: invalid credentials",
                                 challengeHeaders(config_->realm));
      return http::FilterHeadersStatus::kStopIteration;
    }
    info.identity = std::move(*identity);
  }
  // Nothing after this filter needs the secret; keep it out of anything
  // that might copy headers (upstream requests are built from scratch).
  headers.headers.remove("authorization");
  info.principals = http::principalsOf(info.identity, info.tls.get());
  if (info.principals.empty() && config_->required_listeners.count(info.listener) != 0) {
    callbacks_->sendLocalReply(401, "modgate: authentication required",
                               challengeHeaders(config_->realm));
    return http::FilterHeadersStatus::kStopIteration;
  }
  return http::FilterHeadersStatus::kContinue;
}

}  // namespace modgate::filters::auth
