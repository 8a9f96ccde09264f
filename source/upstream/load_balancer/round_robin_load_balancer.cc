#include "source/upstream/load_balancer/round_robin_load_balancer.h"

#include <algorithm>
#include <utility>
#include <vector>

#include "source/upstream/load_balancer/load_balancer_base.h"
#include "source/upstream/load_balancer/smooth_weighted_round_robin.h"

namespace modgate::upstream {
namespace {

// Staggering costs O(hosts) per skipped pick at build time; past this many
// hosts a partial stagger spreads workers just as well.
constexpr uint64_t kMaxStaggerPicks = 1024;

class RoundRobinLoadBalancer : public LoadBalancerBase {
 public:
  RoundRobinLoadBalancer(std::shared_ptr<const PreparedPrioritySet> prepared, uint64_t seed)
      : LoadBalancerBase(std::move(prepared), seed, Selection::kRandomized) {
    for (const PreparedLevel& level : this->prepared().levels()) {
      schedules_.emplace_back(level.weights);
      const uint64_t stagger =
          level.hosts.empty() ? 0 : seed % std::min<uint64_t>(level.hosts.size(), kMaxStaggerPicks);
      for (uint64_t i = 0; i < stagger; ++i) {
        schedules_.back().pick();
      }
    }
  }

 private:
  HostSharedPtr pickFromLevel(uint32_t priority, uint64_t, uint32_t) override {
    return prepared().levels()[priority].hosts[schedules_[priority].pick()];
  }

  std::vector<SmoothWeightedRoundRobin> schedules_;
};

class RoundRobinFactory : public LoadBalancerFactory {
 public:
  explicit RoundRobinFactory(std::shared_ptr<const PreparedPrioritySet> prepared)
      : prepared_(std::move(prepared)) {}

  std::unique_ptr<LoadBalancer> create(uint64_t seed) const override {
    return std::make_unique<RoundRobinLoadBalancer>(prepared_, seed);
  }

 private:
  const std::shared_ptr<const PreparedPrioritySet> prepared_;
};

}  // namespace

std::shared_ptr<const LoadBalancerFactory> createRoundRobinFactory(
    std::shared_ptr<const PreparedPrioritySet> prepared) {
  return std::make_shared<RoundRobinFactory>(std::move(prepared));
}

}  // namespace modgate::upstream
