#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "source/canary/client_hash.h"
#include "source/canary/outcome_window.h"
#include "source/canary/shadow_comparator.h"
#include "source/common/http/header_map.h"
#include "source/upstream/cluster/cluster.h"

namespace modgate::router {

struct WeightedCluster {
  upstream::ClusterSharedPtr cluster;
  // Effective weight: the configured one, or its runtime override.
  uint32_t weight = 0;
};

// A route's stable/canary rollout as of one snapshot. The weight changes
// only by publishing a new route table; the outcome recorders live as long
// as the rollout and are shared by every snapshot, so outcomes of requests
// started on an older snapshot still count.
struct RolloutBinding {
  size_t stable = 0;  // indices into WeightedSplit::clusters
  size_t canary = 1;
  uint32_t canary_weight_percent = 0;
  bool fallback_to_stable = true;
  std::shared_ptr<canary::OutcomeRecorder> stable_outcomes;
  std::shared_ptr<canary::OutcomeRecorder> canary_outcomes;
};

// Traffic divided between clusters by weight (Envoy's weighted_clusters).
struct WeightedSplit {
  std::vector<WeightedCluster> clusters;
  uint64_t total_weight = 0;
  // Unset: every request is drawn at random by weight.
  std::optional<canary::StickinessSpec> stickiness;
  // This proxy's node id (Bootstrap.node.id), the key of kNode stickiness
  // and of loopback clients.
  std::string node_id;
  // Lower-case; empty: no pinning.
  std::string pin_header;
  std::optional<RolloutBinding> rollout;
};

// Mirroring of immutable artifacts to another cluster for comparison.
struct ShadowPolicy {
  upstream::ClusterSharedPtr cluster;
  double percent = 0;
  // Where the shadow's own outcomes count (the canary's window); may be null.
  std::shared_ptr<canary::OutcomeRecorder> outcomes;
  std::shared_ptr<canary::ShadowComparator> comparator;
};

// The index in split.clusters that serves this request. `source_address`
// is the peer ("ip:port" or "[ip6]:port"); `random` a fresh random number
// for splits without stickiness. With a rollout, a sticky client keeps its
// side while the weight holds and only ever moves from stable to canary as
// it grows (canary::choose); the pin header overrides both.
size_t chooseWeightedCluster(const WeightedSplit& split, std::string_view source_address,
                             const http::RequestHeaders& headers, uint64_t random);

// "10.0.0.1:5000" -> "10.0.0.1", "[::1]:80" -> "::1".
std::string_view addressWithoutPort(std::string_view address);

}  // namespace modgate::router
