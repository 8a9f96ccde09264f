#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "source/common/http/identity.h"

namespace modgate::filters::auth {

// The hashed credentials of ClientAuth.credentials_file, immutable once
// parsed (a change of the file is a new Credentials).
//
// Why two hashes: people choose weak passwords, so Basic passwords should be
// stored as PBKDF2-HMAC-SHA256 (a stolen file costs an attacker many
// iterations per guess); API tokens are long random strings, for which a
// salted SHA-256 is as strong and costs a client nothing per request. Both
// come from BoringSSL, and every comparison is CRYPTO_memcmp.
class Credentials {
 public:
  // Parses the file's text; errors name the line.
  static absl::StatusOr<std::shared_ptr<const Credentials>> parse(std::string_view text);
  static absl::StatusOr<std::shared_ptr<const Credentials>> load(const std::string& path);

  // The identity an Authorization header value proves, nullopt when it
  // proves nothing (unknown user, wrong secret, malformed, other scheme).
  std::optional<http::Identity> verify(std::string_view authorization) const;

  size_t size() const { return entries_.size(); }

 private:
  struct Hash {
    enum class Scheme { kSha256, kPbkdf2Sha256 } scheme;
    unsigned iterations = 0;
    std::string salt;
    std::string digest;
    bool matches(std::string_view secret) const;
  };
  struct Entry {
    http::Identity::Method method;
    std::string name;
    Hash hash;
  };

  std::vector<Entry> entries_;
};
using CredentialsSharedPtr = std::shared_ptr<const Credentials>;

}  // namespace modgate::filters::auth
