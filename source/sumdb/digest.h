#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "source/common/tls/boringssl.h"

// SHA-256 and standard base64 over BoringSSL: what the checksum database's
// formats (go.sum hashes, tree hashes, note signatures) are built from.
namespace modgate::sumdb {

using Sha256Digest = std::array<uint8_t, 32>;

// Incremental SHA-256 (BoringSSL's, with its assembly: a module zip is
// hashed whole, so speed matters here).
class Sha256 {
 public:
  Sha256() { SHA256_Init(&ctx_); }
  void update(const void* data, size_t size) { SHA256_Update(&ctx_, data, size); }
  void update(std::string_view data) { update(data.data(), data.size()); }
  Sha256Digest finish() {
    Sha256Digest out;
    SHA256_Final(out.data(), &ctx_);
    return out;
  }
  static Sha256Digest hash(std::string_view data) {
    Sha256 sha;
    sha.update(data);
    return sha.finish();
  }

 private:
  SHA256_CTX ctx_;
};

// Standard base64 with padding (Go's base64.StdEncoding).
std::string Base64Encode(const void* data, size_t size);
// Strict standard base64 with padding: nullopt on any other character,
// missing padding or trailing garbage.
std::optional<std::string> Base64Decode(std::string_view text);

// Lower-case hex, as dirhash writes file hashes.
std::string Hex(const Sha256Digest& digest);

}  // namespace modgate::sumdb
