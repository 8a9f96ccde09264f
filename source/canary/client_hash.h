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

// The seed that salts every client key of one split (see
// StickinessSpec::salt): the hash of the route's name.
uint64_t splitSalt(std::string_view route_name);

enum class ClientKeySource {
  kSourceIp,
  kHeader,
  // This proxy's node id: every request of one sidecar (one pod) alike.
  kNode,
};

// What identifies "one build" for stickiness.
struct StickinessSpec {
  ClientKeySource source = ClientKeySource::kSourceIp;
  // With kHeader: the request header whose value is the key.
  std::string header_name;
  // The seed of clientHash for this split (splitSalt of the route name), so
  // that two rollouts choose independent sets of clients: without it the
  // first 5% of pods would be the guinea pigs of every rollout, and the
  // same job ids would always see new proxies first.
  uint64_t salt = 0;
};

// True for 127.0.0.0/8 and ::1 (also as ::ffff:127.x.y.z), without port.
bool isLoopbackAddress(std::string_view ip);

// The key to hash:
//  - kNode: the node id;
//  - kHeader: the header's value when the request has a non-empty one,
//    otherwise as kSourceIp, so a client without the header still sticks;
//  - kSourceIp: the source IP (without port), except that a loopback
//    address yields the node id. In a sidecar every build connects from
//    127.0.0.1, so the address is the same on every node of the fleet and
//    every sidecar would decide alike (a gray release turned into one
//    big-bang switch at some weight); the node id tells the pods apart.
std::string_view clientKey(const StickinessSpec& spec, std::string_view source_ip,
                           std::optional<std::string_view> header_value,
                           std::string_view node_id = {});

}  // namespace modgate::canary
