#pragma once

#include <array>
#include <chrono>
#include <cstdint>

namespace modgate::tls {

// Session ticket keys that rotate without shared mutable state.
//
// Every key is derived from one random secret (made at construction, never
// leaving the process) and a period number, time / rotation: HMAC-SHA256 of
// the secret over a label and the period gives the 16-byte key name, the
// AES-128 key and the HMAC key. Any worker thread, and any SSL_CTX built
// from it (certificates reloaded, SNI contexts), computes the same keys for
// the same period without a lock or a timer; a new period is a rotation. A
// ticket is accepted in the period it was issued in and the next one, and
// is then re-issued under the current key.
//
// Why not BoringSSL's built-in ticket keys: they belong to one SSL_CTX, so a
// certificate reload (a new SSL_CTX) would end every client's resumption.
class SessionTicketKeys {
 public:
  struct Key {
    std::array<uint8_t, 16> name;
    std::array<uint8_t, 16> aes_key;
    std::array<uint8_t, 16> hmac_key;
  };

  // `rotation` > 0.
  explicit SessionTicketKeys(std::chrono::seconds rotation);

  std::chrono::seconds rotation() const { return rotation_; }
  // The key new tickets are encrypted with at `unix_seconds`.
  Key encryptionKey(int64_t unix_seconds) const;
  // The key named `name` if it may still decrypt at `unix_seconds` (current
  // or previous period); `current` tells which.
  bool decryptionKey(const uint8_t* name, int64_t unix_seconds, Key& key, bool& current) const;

 private:
  Key derive(int64_t period) const;

  std::chrono::seconds rotation_;
  std::array<uint8_t, 32> secret_;
};

}  // namespace modgate::tls
