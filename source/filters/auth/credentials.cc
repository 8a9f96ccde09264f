#include "source/filters/auth/credentials.h"

#include <fstream>
#include <sstream>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "source/common/tls/boringssl.h"

namespace modgate::filters::auth {
namespace {

// Hashing a password costs this many iterations at most, so that a
// credentials file cannot make each request burn seconds of CPU.
constexpr unsigned kMaxIterations = 1000000;

absl::string_view asAbsl(std::string_view text) { return {text.data(), text.size()}; }

}  // namespace

bool Credentials::Hash::matches(std::string_view secret) const {
  std::string computed(digest.size(), '\0');
  auto* out = reinterpret_cast<uint8_t*>(computed.data());
  if (scheme == Scheme::kSha256) {
    SHA256_CTX ctx;
    SHA256_Init(&ctx);
    SHA256_Update(&ctx, salt.data(), salt.size());
    SHA256_Update(&ctx, secret.data(), secret.size());
    uint8_t full[SHA256_DIGEST_LENGTH];
    SHA256_Final(full, &ctx);
    std::memcpy(out, full, computed.size());
  } else if (!PKCS5_PBKDF2_HMAC(secret.data(), secret.size(),
                                reinterpret_cast<const uint8_t*>(salt.data()), salt.size(),
                                iterations, EVP_sha256(), computed.size(), out)) {
    return false;
  }
  return CRYPTO_memcmp(computed.data(), digest.data(), digest.size()) == 0;
}

absl::StatusOr<CredentialsSharedPtr> Credentials::parse(std::string_view text) {
  auto credentials = std::shared_ptr<Credentials>(new Credentials());
  int number = 0;
  for (absl::string_view line : absl::StrSplit(asAbsl(text), '\n')) {
    ++number;
    line = absl::StripAsciiWhitespace(line);
    if (line.empty() || line[0] == '#') continue;
    std::vector<absl::string_view> fields =
        absl::StrSplit(line, absl::ByAnyChar(" \t"), absl::SkipEmpty());
    auto bad = [number](absl::string_view why) {
      return absl::InvalidArgumentError(absl::StrCat("line ", number, ": ", why));
    };
    if (fields.size() != 3) return bad("want \"basic|bearer <name> <hash>\"");
    Entry entry;
    if (fields[0] == "basic") {
      entry.method = http::Identity::Method::kBasic;
      if (fields[1].find(':') != absl::string_view::npos) return bad("a user name cannot hold ':'");
    } else if (fields[0] == "bearer") {
      entry.method = http::Identity::Method::kBearer;
    } else {
      return bad(absl::StrCat("unknown kind \"", fields[0], "\" (basic or bearer)"));
    }
    entry.name = std::string(fields[1]);
    std::vector<absl::string_view> parts = absl::StrSplit(fields[2], '$');
    Hash& hash = entry.hash;
    absl::string_view salt, digest;
    if (parts.size() == 3 && parts[0] == "sha256") {
      hash.scheme = Hash::Scheme::kSha256;
      salt = parts[1];
      digest = parts[2];
    } else if (parts.size() == 4 && parts[0] == "pbkdf2-sha256") {
      hash.scheme = Hash::Scheme::kPbkdf2Sha256;
      if (!absl::SimpleAtoi(parts[1], &hash.iterations) || hash.iterations == 0 ||
          hash.iterations > kMaxIterations) {
        return bad(absl::StrCat("iterations must be 1..", kMaxIterations));
      }
      salt = parts[2];
      digest = parts[3];
    } else {
      return bad("hash must be sha256$<salt>$<digest> or pbkdf2-sha256$<iterations>$<salt>$<key>");
    }
    if (!absl::Base64Unescape(salt, &hash.salt) || hash.salt.size() < 8) {
      return bad("salt: at least 8 bytes in base64");
    }
    if (!absl::Base64Unescape(digest, &hash.digest) || hash.digest.size() < 16 ||
        hash.digest.size() > 64 ||
        (hash.scheme == Hash::Scheme::kSha256 && hash.digest.size() != SHA256_DIGEST_LENGTH)) {
      return bad("digest: 32 bytes (sha256) or 16..64 bytes (pbkdf2) in base64");
    }
    credentials->entries_.push_back(std::move(entry));
  }
  return CredentialsSharedPtr(std::move(credentials));
}

absl::StatusOr<CredentialsSharedPtr> Credentials::load(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::InvalidArgumentError(absl::StrCat("cannot read ", path));
  std::ostringstream text;
  text << in.rdbuf();
  auto parsed = parse(text.str());
  if (!parsed.ok()) {
    return absl::InvalidArgumentError(absl::StrCat(path, ": ", parsed.status().message()));
  }
  return parsed;
}

std::optional<http::Identity> Credentials::verify(std::string_view authorization) const {
  absl::string_view value = absl::StripAsciiWhitespace(asAbsl(authorization));
  size_t space = value.find(' ');
  if (space == absl::string_view::npos) return std::nullopt;
  absl::string_view scheme = value.substr(0, space);
  absl::string_view argument = absl::StripLeadingAsciiWhitespace(value.substr(space + 1));
  if (absl::EqualsIgnoreCase(scheme, "basic")) {
    std::string decoded;
    if (!absl::Base64Unescape(argument, &decoded)) return std::nullopt;
    size_t colon = decoded.find(':');
    if (colon == std::string::npos) return std::nullopt;
    std::string_view user(decoded.data(), colon);
    std::string_view password(decoded.data() + colon + 1, decoded.size() - colon - 1);
    for (const auto& entry : entries_) {
      if (entry.method == http::Identity::Method::kBasic && entry.name == user) {
        if (!entry.hash.matches(password)) return std::nullopt;
        return http::Identity{entry.method, entry.name};
      }
    }
    return std::nullopt;
  }
  if (absl::EqualsIgnoreCase(scheme, "bearer")) {
    // A token names no entry: each one's salted hash is tried.
    std::string_view token(argument.data(), argument.size());
    for (const auto& entry : entries_) {
      if (entry.method == http::Identity::Method::kBearer && entry.hash.matches(token)) {
        return http::Identity{entry.method, entry.name};
      }
    }
  }
  return std::nullopt;
}

}  // namespace modgate::filters::auth
