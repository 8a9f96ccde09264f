#include "source/common/tls/session_ticket_keys.h"

#include <cstring>
#include <string_view>

#include "source/common/tls/boringssl.h"

namespace modgate::tls {
namespace {

void labelled(const std::array<uint8_t, 32>& secret, std::string_view label, int64_t period,
              uint8_t out[16]) {
  uint8_t message[32];
  size_t length = 0;
  std::memcpy(message, label.data(), label.size());
  length += label.size();
  for (int i = 7; i >= 0; --i) message[length++] = static_cast<uint8_t>(period >> (8 * i));
  uint8_t digest[EVP_MAX_MD_SIZE];
  unsigned digest_length = 0;
  HMAC(EVP_sha256(), secret.data(), secret.size(), message, length, digest, &digest_length);
  std::memcpy(out, digest, 16);
}

}  // namespace

SessionTicketKeys::SessionTicketKeys(std::chrono::seconds rotation) : rotation_(rotation) {
  RAND_bytes(secret_.data(), secret_.size());
}

SessionTicketKeys::Key SessionTicketKeys::derive(int64_t period) const {
  Key key;
  labelled(secret_, "modgate name", period, key.name.data());
  labelled(secret_, "modgate aes", period, key.aes_key.data());
  labelled(secret_, "modgate hmac", period, key.hmac_key.data());
  return key;
}

SessionTicketKeys::Key SessionTicketKeys::encryptionKey(int64_t unix_seconds) const {
  return derive(unix_seconds / rotation_.count());
}

bool SessionTicketKeys::decryptionKey(const uint8_t* name, int64_t unix_seconds, Key& key,
                                      bool& current) const {
  const int64_t period = unix_seconds / rotation_.count();
  for (int64_t candidate : {period, period - 1}) {
    Key derived = derive(candidate);
    if (CRYPTO_memcmp(derived.name.data(), name, derived.name.size()) == 0) {
      key = derived;
      current = candidate == period;
      return true;
    }
  }
  return false;
}

}  // namespace modgate::tls
