#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "source/upstream/load_balancer/host_set.h"
#include "source/upstream/load_balancer/priority_load.h"

namespace modgate::upstream {

// The hosts one priority level balances over, fixed for a snapshot.
struct PreparedLevel {
  // The level's healthy hosts, or all of them when the level is in panic.
  std::vector<HostSharedPtr> hosts;
  // weights[i] is hosts[i]'s weight as read at preparation (0 read as 1), so
  // a balancer never sees a weight change mid-snapshot.
  std::vector<uint32_t> weights;
  uint64_t total_weight = 0;
  bool all_weights_equal = true;
};

// What every policy derives from a snapshot before balancing: the priority
// loads and each level's hosts to use. Immutable, so one instance is shared
// by the factory and all workers' balancers.
class PreparedPrioritySet {
 public:
  explicit PreparedPrioritySet(std::shared_ptr<const HostSetSnapshot> snapshot);

  const HostSetSnapshot& snapshot() const { return *snapshot_; }
  const PriorityLoad& load() const { return load_; }
  const std::vector<PreparedLevel>& levels() const { return levels_; }

  // Requests in flight across every host of the snapshot: the cluster-wide
  // count bounded-load hashing measures against. O(hosts).
  uint64_t activeRequests() const;

 private:
  // Keeps the hosts alive for as long as any balancer built on it.
  const std::shared_ptr<const HostSetSnapshot> snapshot_;
  const PriorityLoad load_;
  std::vector<PreparedLevel> levels_;
};

}  // namespace modgate::upstream
