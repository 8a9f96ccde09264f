#include "source/upstream/load_balancer/prepared_priority_set.h"

#include <algorithm>
#include <utility>

namespace modgate::upstream {

PreparedPrioritySet::PreparedPrioritySet(std::shared_ptr<const HostSetSnapshot> snapshot)
    : snapshot_(std::move(snapshot)), load_(computePriorityLoad(*snapshot_)) {
  levels_.resize(snapshot_->priorities.size());
  for (size_t i = 0; i < levels_.size(); ++i) {
    const PriorityLevel& source = snapshot_->priorities[i];
    PreparedLevel& level = levels_[i];
    level.hosts = load_.panic[i] ? source.hosts : source.healthy_hosts;
    level.weights.reserve(level.hosts.size());
    for (const HostSharedPtr& host : level.hosts) {
      const uint32_t weight = std::max<uint32_t>(1, host->weight.load(std::memory_order_relaxed));
      level.all_weights_equal =
          level.all_weights_equal && (level.weights.empty() || level.weights.front() == weight);
      level.weights.push_back(weight);
      level.total_weight += weight;
    }
  }
}

uint64_t PreparedPrioritySet::activeRequests() const {
  uint64_t active = 0;
  for (const PriorityLevel& level : snapshot_->priorities) {
    for (const HostSharedPtr& host : level.hosts) {
      active += host->active_requests.load(std::memory_order_relaxed);
    }
  }
  return active;
}

}  // namespace modgate::upstream
