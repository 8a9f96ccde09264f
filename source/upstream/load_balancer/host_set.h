#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <vector>

#include "source/upstream/load_balancer/host.h"

namespace modgate::upstream {

// The hosts of one priority level.
struct PriorityLevel {
  // Every host at this level.
  std::vector<HostSharedPtr> hosts;
  // The subset of `hosts` the caller deems healthy: not failing active health
  // checks and not ejected by outlier detection. Balancers use only these
  // unless the level is in panic.
  std::vector<HostSharedPtr> healthy_hosts;
};

// Cluster-wide settings that shape priority selection (Envoy's meanings).
struct HostSetOptions {
  // A level's health is its healthy share times this factor / 100, capped at
  // 100%: with 140 a level counts as fully healthy down to ~72% healthy hosts.
  uint32_t overprovisioning_factor = 140;
  // Percent. Below it a level balances over all its hosts, ignoring health;
  // 0 disables panic mode.
  double healthy_panic_threshold = 50.0;
  // Envoy's `weighted_priority_health`: a level's health is its healthy
  // weight share instead of its healthy host count share.
  bool weighted_priority_health = false;
};

// An immutable view of a cluster's hosts. The main thread builds one per
// update and hands it to every worker, which rebuilds its balancers from it.
struct HostSetSnapshot {
  // Index = priority (0 is the most preferred); levels may be empty.
  std::vector<PriorityLevel> priorities;
  HostSetOptions options;
};

// Groups `hosts` into levels by Host::priority (so a snapshot has
// max priority + 1 levels) and fills each level's healthy hosts with those
// `is_healthy` accepts. Host order within a level follows `hosts`.
std::shared_ptr<const HostSetSnapshot> buildHostSetSnapshot(
    const std::vector<HostSharedPtr>& hosts, const std::function<bool(const Host&)>& is_healthy,
    const HostSetOptions& options = {});

}  // namespace modgate::upstream
