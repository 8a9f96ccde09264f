#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

namespace modgate::canary {

enum class Side {
  kStable,
  kCanary,
};

// "stable" or "canary".
std::string_view sideName(Side side);

// The pin header's value as a side: "stable" or "canary", ASCII
// case-insensitive, surrounding spaces ignored; nullopt for anything else, so
// a typo falls back to the sticky split rather than failing the request.
std::optional<Side> parsePin(std::string_view header_value);

// Where a client hash falls in [0, kSplitBuckets). Fixed per client, so the
// split below is a pure threshold on it.
inline constexpr uint32_t kSplitBuckets = 10000;
uint32_t splitBucket(uint64_t client_hash);

// The side for one request. Without a pin, clients whose bucket is below
// weight x 100 go to the canary: deterministic per client, so one build sees
// one side while the weight holds; as the weight grows the threshold only
// rises, so clients only move from stable to canary, never back; and over
// many clients the canary's share is the weight. Weights above 100 count as
// 100. A pin wins over everything, including weight 0 (testing a canary
// before it takes traffic).
Side choose(uint64_t client_hash, uint32_t canary_weight_percent, std::optional<Side> pin);

}  // namespace modgate::canary
