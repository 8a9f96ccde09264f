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

uint64_t splitSalt(std::string_view route_name) { return clientHash(route_name); }

bool isLoopbackAddress(std::string_view ip) {
  constexpr std::string_view kMappedV4 = "::ffff:";
  if (ip.size() > kMappedV4.size() && ip.substr(0, kMappedV4.size()) == kMappedV4 &&
      ip.find('.') != std::string_view::npos) {
    ip.remove_prefix(kMappedV4.size());
  }
  return ip == "::1" || ip.substr(0, 4) == "127.";
}

std::string_view clientKey(const StickinessSpec& spec, std::string_view source_ip,
                           std::optional<std::string_view> header_value, std::string_view node_id) {
  if (spec.source == ClientKeySource::kNode) return node_id;
  if (spec.source == ClientKeySource::kHeader && header_value.has_value() &&
      !header_value->empty()) {
    return *header_value;
  }
  if (!node_id.empty() && isLoopbackAddress(source_ip)) return node_id;
  return source_ip;
}

}  // namespace modgate::canary
