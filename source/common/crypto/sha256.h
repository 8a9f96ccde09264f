#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace modgate::crypto {

using Sha256Digest = std::array<uint8_t, 32>;

// Incremental SHA-256 over BoringSSL's, so that a streamed body is hashed
// chunk by chunk as it passes through, never held whole. The context is a
// plain struct: no allocation, copyable state, nothing to free. Kept behind
// this small class so that callers (the canary comparator, the config
// hasher) never include BoringSSL's headers themselves.
class Sha256 {
 public:
  Sha256();
  ~Sha256();
  Sha256(const Sha256&) = delete;
  Sha256& operator=(const Sha256&) = delete;

  void update(const void* data, size_t size);
  void update(std::string_view data) { update(data.data(), data.size()); }

  // Completes the hash. The object must not be updated afterwards, until
  // reset().
  Sha256Digest finish();

  // Starts over, as if newly constructed (e.g. another upstream's body
  // replaces a discarded one).
  void reset();

  // One-shot convenience.
  static Sha256Digest hash(std::string_view data);

 private:
  // Storage for BoringSSL's SHA256_CTX (112 bytes), sized and checked in the
  // .cc so this header stays free of OpenSSL types.
  alignas(8) std::array<uint8_t, 112> context_;
};

// Lower-case hex, the form `sha256sum` prints and logs should show.
std::string toHex(const Sha256Digest& digest);

}  // namespace modgate::crypto
