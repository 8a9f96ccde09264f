#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "source/upstream/load_balancer/host_set.h"
#include "source/upstream/load_balancer/load_balancer.h"

namespace modgate::upstream::testing {

HostSharedPtr makeHost(const std::string& name, uint32_t weight = 1, uint32_t priority = 0);

// Hosts "<prefix>0".."<prefix>{n-1}".
std::vector<HostSharedPtr> makeHosts(const std::string& prefix, size_t n, uint32_t weight = 1,
                                     uint32_t priority = 0);

// A level whose first `healthy` hosts are healthy.
PriorityLevel makeLevel(const std::vector<HostSharedPtr>& hosts, size_t healthy);

// A level of `n` fresh hosts, the first `healthy` of them healthy.
PriorityLevel makeLevel(const std::string& prefix, size_t n, size_t healthy);

std::shared_ptr<const HostSetSnapshot> makeSnapshot(std::vector<PriorityLevel> levels,
                                                    const HostSetOptions& options = {});

// Every host healthy, all in P0.
std::shared_ptr<const HostSetSnapshot> makeHealthySnapshot(const std::vector<HostSharedPtr>& hosts);

// A context with a settable hash, retry count and set of rejected hosts.
class TestContext : public LoadBalancerContext {
 public:
  std::optional<uint64_t> hashKey() const override { return hash; }
  bool shouldSelectAnotherHost(const Host& host) const override {
    return rejected.count(host.name) != 0;
  }
  uint32_t hostSelectionRetryCount() const override { return retries; }

  std::optional<uint64_t> hash;
  std::set<std::string> rejected;
  uint32_t retries = 0;
};

// Picks `n` times and counts picks per host name ("" for nullptr).
std::map<std::string, int> countPicks(LoadBalancer& lb, int n,
                                      LoadBalancerContext* context = nullptr);

// Which host each of `keys` hashed keys lands on (by host name).
std::vector<std::string> placeKeys(LoadBalancer& lb, int keys);

}  // namespace modgate::upstream::testing
