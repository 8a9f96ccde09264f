#include "source/router/weighted_split.h"

#include "source/canary/traffic_split.h"

namespace modgate::router {

std::string_view addressWithoutPort(std::string_view address) {
  if (!address.empty() && address.front() == '[') {
    size_t close = address.find(']');
    return close == std::string_view::npos ? address.substr(1) : address.substr(1, close - 1);
  }
  size_t colon = address.rfind(':');
  // A bare IPv6 address (more than one colon) has no port to strip.
  if (colon == std::string_view::npos || address.find(':') != colon) return address;
  return address.substr(0, colon);
}

namespace {

std::optional<uint64_t> clientHashOf(const WeightedSplit& split, std::string_view source_address,
                                     const http::RequestHeaders& headers) {
  if (!split.stickiness.has_value()) return std::nullopt;
  std::optional<std::string_view> header_value;
  if (split.stickiness->source == canary::ClientKeySource::kHeader) {
    if (const std::string* value = headers.headers.get(split.stickiness->header_name)) {
      header_value = *value;
    }
  }
  return canary::clientHash(canary::clientKey(*split.stickiness, addressWithoutPort(source_address),
                                              header_value, split.node_id),
                            split.stickiness->salt);
}

}  // namespace

size_t chooseWeightedCluster(const WeightedSplit& split, std::string_view source_address,
                             const http::RequestHeaders& headers, uint64_t random) {
  const std::string* pin = nullptr;
  if (!split.pin_header.empty()) pin = headers.headers.get(split.pin_header);

  if (split.rollout.has_value()) {
    const RolloutBinding& rollout = *split.rollout;
    std::optional<canary::Side> pinned;
    if (pin != nullptr) pinned = canary::parsePin(*pin);
    std::optional<uint64_t> hash = clientHashOf(split, source_address, headers);
    canary::Side side =
        canary::choose(hash.value_or(random), rollout.canary_weight_percent, pinned);
    return side == canary::Side::kCanary ? rollout.canary : rollout.stable;
  }

  if (pin != nullptr) {
    for (size_t i = 0; i < split.clusters.size(); ++i) {
      if (split.clusters[i].cluster->name() == *pin) return i;
    }
  }
  if (split.total_weight == 0) return 0;
  std::optional<uint64_t> hash = clientHashOf(split, source_address, headers);
  // A sticky client's point on the weight line is fixed by its hash.
  const uint64_t draw = hash.value_or(random);
  uint64_t point =
      static_cast<uint64_t>((static_cast<unsigned __int128>(draw) * split.total_weight) >> 64);
  for (size_t i = 0; i < split.clusters.size(); ++i) {
    if (point < split.clusters[i].weight) return i;
    point -= split.clusters[i].weight;
  }
  return split.clusters.size() - 1;
}

}  // namespace modgate::router
