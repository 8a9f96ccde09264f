#include "test/upstream/load_balancer/test_hosts.h"

#include <string>
#include <utility>

#include "source/upstream/load_balancer/module_path_hash.h"

namespace modgate::upstream::testing {

HostSharedPtr makeHost(const std::string& name, uint32_t weight, uint32_t priority) {
  return std::make_shared<Host>(name, weight, priority);
}

std::vector<HostSharedPtr> makeHosts(const std::string& prefix, size_t n, uint32_t weight,
                                     uint32_t priority) {
  std::vector<HostSharedPtr> hosts;
  for (size_t i = 0; i < n; ++i) {
    hosts.push_back(makeHost(prefix + std::to_string(i), weight, priority));
  }
  return hosts;
}

PriorityLevel makeLevel(const std::vector<HostSharedPtr>& hosts, size_t healthy) {
  PriorityLevel level;
  level.hosts = hosts;
  level.healthy_hosts.assign(hosts.begin(), hosts.begin() + healthy);
  return level;
}

PriorityLevel makeLevel(const std::string& prefix, size_t n, size_t healthy) {
  return makeLevel(makeHosts(prefix, n), healthy);
}

std::shared_ptr<const HostSetSnapshot> makeSnapshot(std::vector<PriorityLevel> levels,
                                                    const HostSetOptions& options) {
  auto snapshot = std::make_shared<HostSetSnapshot>();
  snapshot->priorities = std::move(levels);
  snapshot->options = options;
  return snapshot;
}

std::shared_ptr<const HostSetSnapshot> makeHealthySnapshot(
    const std::vector<HostSharedPtr>& hosts) {
  return makeSnapshot({makeLevel(hosts, hosts.size())});
}

std::map<std::string, int> countPicks(LoadBalancer& lb, int n, LoadBalancerContext* context) {
  std::map<std::string, int> counts;
  for (int i = 0; i < n; ++i) {
    const HostSharedPtr host = lb.chooseHost(context);
    ++counts[host != nullptr ? host->name : ""];
  }
  return counts;
}

std::vector<std::string> placeKeys(LoadBalancer& lb, int keys) {
  std::vector<std::string> placement;
  TestContext context;
  for (int i = 0; i < keys; ++i) {
    context.hash = hashModulePath("example.com/module" + std::to_string(i));
    const HostSharedPtr host = lb.chooseHost(&context);
    placement.push_back(host != nullptr ? host->name : "");
  }
  return placement;
}

}  // namespace modgate::upstream::testing
