#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace modgate::canary {

// A 64-bit hash of a client key (a source address or a header value) that
// is the same on every build, machine and restart, unlike std::hash: a
// client must land on the same side after the proxy restarts, and every
// replica behind a load balancer must agree. FNV-1a over the bytes, then the
// SplitMix64 finalizer so that keys differing in one byte (10.0.0.1,
// 10.0.0.2) spread over the whole range. Not cryptographic: clients that pick
// their own key can pick their side, which the pin header allows anyway.
uint64_t clientHash(std::string_view key, uint64_t seed = 0);

enum class ClientKeySource {
  kSourceIp,
  kHeader,
};

// What identifies "one build" for stickiness.
struct StickinessSpec {
  ClientKeySource source = ClientKeySource::kSourceIp;
  // With kHeader: the request header whose value is the key.
  std::string header_name;
};

// The key to hash: the header's value when the spec asks for a header and
// the request has a non-empty one, otherwise the source IP (without port), so
// that a client without the header still sticks to its address.
std::string_view clientKey(const StickinessSpec& spec, std::string_view source_ip,
                           std::optional<std::string_view> header_value);

}  // namespace modgate::canary
