#pragma once

#include <cstdint>
#include <vector>

#include "source/upstream/load_balancer/host_set.h"

namespace modgate::upstream {

// How traffic is split across priority levels, computed as Envoy does
// (degraded hosts aside: modgate has none):
//
//  - A level's health is min(100, overprovisioning_factor * healthy / total)
//    in integer percent, counting hosts (or weights, with
//    weighted_priority_health).
//  - Levels take load in priority order, each as much as its health allows,
//    until 100% is placed. If the healths sum to less than 100 they are first
//    scaled up to sum to 100 (the "normalized total health"); rounding
//    leftovers go to the first level with any health.
//  - Panic: when the normalized total health is below 100, a level whose
//    healthy share is below healthy_panic_threshold balances over all its
//    hosts instead of its healthy ones. When every level is in panic (e.g.
//    nothing is healthy) the load is split by host count instead.
//  - With panic disabled (threshold 0) and nothing healthy, P0 gets 100% and
//    picks find no host.
struct PriorityLoad {
  // Percent of traffic per level; sums to 100 whenever there is a level.
  std::vector<uint32_t> percent;
  // Per level: balance over all hosts, ignoring health.
  std::vector<bool> panic;
};

PriorityLoad computePriorityLoad(const HostSetSnapshot& snapshot);

// The level for a request, from a uniform 64-bit value (random, or the
// request's hash for the hashing policies, so a key keeps its level):
// hash % 100 + 1 falls in one level's slice of the cumulative percentages.
// `load` must have at least one level.
uint32_t choosePriority(const PriorityLoad& load, uint64_t hash);

}  // namespace modgate::upstream
