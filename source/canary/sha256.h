#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace modgate::canary {

using Sha256Digest = std::array<uint8_t, 32>;

// SHA-256 (FIPS 180-4), incremental so that a streamed body is hashed chunk
// by chunk as it passes through, never held whole. Written here rather than
// taken from BoringSSL so the canary engine has no dependencies; it only
// compares bodies, so speed matters less than being obviously correct.
class Sha256 {
 public:
  Sha256();

  void update(const void* data, size_t size);
  void update(std::string_view data) { update(data.data(), data.size()); }

  // Completes the hash. The object must not be updated afterwards.
  Sha256Digest finish();

  // One-shot convenience.
  static Sha256Digest hash(std::string_view data);

 private:
  void compress(const uint8_t* block);

  std::array<uint32_t, 8> state_;
  std::array<uint8_t, 64> buffer_;
  size_t buffered_ = 0;
  uint64_t total_bytes_ = 0;
};

// Lower-case hex, the form `sha256sum` prints and logs should show.
std::string toHex(const Sha256Digest& digest);

}  // namespace modgate::canary
