#include "source/canary/client_hash.h"

namespace modgate::canary {

uint64_t clientHash(std::string_view key, uint64_t seed) {
  constexpr uint64_t kFnvOffset = 0xcbf29ce484222325ULL;
  constexpr uint64_t kFnvPrime = 0x100000001b3ULL;
  uint64_t hash = kFnvOffset ^ seed;
  for (unsigned char byte : key) {
    hash ^= byte;
    hash *= kFnvPrime;
  }
  hash ^= hash >> 30;
  hash *= 0xbf58476d1ce4e5b9ULL;
  hash ^= hash >> 27;
  hash *= 0x94d049bb133111ebULL;
  hash ^= hash >> 31;
  return hash;
}

std::string_view clientKey(const StickinessSpec& spec, std::string_view source_ip,
                           std::optional<std::string_view> header_value) {
  if (spec.source == ClientKeySource::kHeader && header_value.has_value() &&
      !header_value->empty()) {
    return *header_value;
  }
  return source_ip;
}

}  // namespace modgate::canary
