#include "source/common/crypto/sha256.h"

// boringssl.h first: it checks that BoringSSL, not OpenSSL, is in use.
#include "source/common/tls/boringssl.h"
// clang-format off
#include <openssl/sha.h>
// clang-format on

namespace modgate::crypto {
namespace {

static_assert(sizeof(SHA256_CTX) <= 112 && alignof(SHA256_CTX) <= 8,
              "Sha256::context_ must hold a SHA256_CTX");

}  // namespace

Sha256::Sha256() { SHA256_Init(reinterpret_cast<SHA256_CTX*>(context_.data())); }

Sha256::~Sha256() = default;

void Sha256::reset() { SHA256_Init(reinterpret_cast<SHA256_CTX*>(context_.data())); }

void Sha256::update(const void* data, size_t size) {
  SHA256_Update(reinterpret_cast<SHA256_CTX*>(context_.data()), data, size);
}

Sha256Digest Sha256::finish() {
  Sha256Digest digest;
  SHA256_Final(digest.data(), reinterpret_cast<SHA256_CTX*>(context_.data()));
  return digest;
}

Sha256Digest Sha256::hash(std::string_view data) {
  Sha256Digest digest;
  SHA256(reinterpret_cast<const uint8_t*>(data.data()), data.size(), digest.data());
  return digest;
}

std::string toHex(const Sha256Digest& digest) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(digest.size() * 2);
  for (uint8_t byte : digest) {
    out.push_back(kHex[byte >> 4]);
    out.push_back(kHex[byte & 0xf]);
  }
  return out;
}

}  // namespace modgate::crypto
