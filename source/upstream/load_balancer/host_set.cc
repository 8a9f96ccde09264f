#include "source/upstream/load_balancer/host_set.h"

#include <algorithm>

namespace modgate::upstream {

std::shared_ptr<const HostSetSnapshot> buildHostSetSnapshot(
    const std::vector<HostSharedPtr>& hosts, const std::function<bool(const Host&)>& is_healthy,
    const HostSetOptions& options) {
  auto snapshot = std::make_shared<HostSetSnapshot>();
  snapshot->options = options;
  for (const HostSharedPtr& host : hosts) {
    if (host == nullptr) {
      continue;
    }
    const uint32_t priority = host->priority.load(std::memory_order_relaxed);
    if (snapshot->priorities.size() <= priority) {
      snapshot->priorities.resize(priority + 1);
    }
    PriorityLevel& level = snapshot->priorities[priority];
    level.hosts.push_back(host);
    if (is_healthy(*host)) {
      level.healthy_hosts.push_back(host);
    }
  }
  return snapshot;
}

}  // namespace modgate::upstream
