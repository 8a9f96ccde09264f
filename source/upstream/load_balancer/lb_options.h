#pragma once

#include <cstdint>

#include "absl/status/status.h"

namespace modgate::upstream {

enum class LbPolicy {
  // Smooth weighted round robin (nginx's algorithm).
  kRoundRobin,
  // Power of N choices; weight-aware as in Envoy.
  kLeastRequest,
  // Weighted random.
  kRandom,
  // Consistent hashing on a ring (Ketama-style, as Envoy's RING_HASH).
  kRingHash,
  // Maglev consistent hashing.
  kMaglev,
};

// Defaults and ranges follow Envoy's cluster and policy protos.
struct LeastRequestOptions {
  // Hosts sampled per pick when all weights are equal; at least 2.
  uint32_t choice_count = 2;
  // With unequal weights, a host's effective weight is
  // weight / (active_requests + 1)^active_request_bias; 0 ignores load.
  double active_request_bias = 1.0;
};

struct RingHashOptions {
  uint64_t minimum_ring_size = 1024;
  uint64_t maximum_ring_size = 8 * 1024 * 1024;
};

struct MaglevOptions {
  // Must be prime; at most 5000011.
  uint64_t table_size = 65537;
};

struct LbOptions {
  LeastRequestOptions least_request;
  RingHashOptions ring_hash;
  MaglevOptions maglev;
  // Ring hash and Maglev only: bounded-load consistent hashing. 0 disables;
  // otherwise at least 100, a host accepting at most ceil(factor/100 times
  // its weighted share of the cluster's active requests + 1) requests before
  // its keys spill to other hosts.
  uint32_t hash_balance_factor = 0;
};

// OK, or InvalidArgument naming the offending field. The factory functions
// refuse (return nullptr for) options this rejects.
absl::Status validateLbOptions(LbPolicy policy, const LbOptions& options);

}  // namespace modgate::upstream
