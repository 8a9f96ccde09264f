#include "source/upstream/load_balancer/least_request_load_balancer.h"

#include <algorithm>
#include <cmath>
#include <optional>
#include <utility>
#include <vector>

#include "source/upstream/load_balancer/edf_scheduler.h"
#include "source/upstream/load_balancer/load_balancer_base.h"

namespace modgate::upstream {
namespace {

// Staggering costs O(log hosts) per skipped pick at build time.
constexpr uint64_t kMaxStaggerPicks = 1024;

class LeastRequestLoadBalancer : public LoadBalancerBase {
 public:
  LeastRequestLoadBalancer(std::shared_ptr<const PreparedPrioritySet> prepared,
                           const LeastRequestOptions& options, uint64_t seed)
      : LoadBalancerBase(std::move(prepared), seed, Selection::kRandomized), options_(options) {
    const std::vector<PreparedLevel>& levels = this->prepared().levels();
    schedulers_.resize(levels.size());
    for (uint32_t priority = 0; priority < levels.size(); ++priority) {
      const PreparedLevel& level = levels[priority];
      if (level.all_weights_equal) {
        continue;
      }
      auto weight_of = [this, priority](size_t i) { return effectiveWeight(priority, i); };
      schedulers_[priority].emplace(level.hosts.size(), weight_of);
      // Like round robin: start each worker at a different point of the cycle.
      const uint64_t stagger = seed % std::min<uint64_t>(level.hosts.size(), kMaxStaggerPicks);
      for (uint64_t i = 0; i < stagger; ++i) {
        schedulers_[priority]->pick(weight_of);
      }
    }
  }

 private:
  HostSharedPtr pickFromLevel(uint32_t priority, uint64_t, uint32_t) override {
    const PreparedLevel& level = prepared().levels()[priority];
    if (schedulers_[priority].has_value()) {
      const size_t index = schedulers_[priority]->pick(
          [this, priority](size_t i) { return effectiveWeight(priority, i); });
      return level.hosts[index];
    }
    const HostSharedPtr* best = nullptr;
    uint32_t best_active = 0;
    for (uint32_t choice = 0; choice < options_.choice_count; ++choice) {
      const HostSharedPtr& sampled = level.hosts[random().uniform(level.hosts.size())];
      const uint32_t active = sampled->active_requests.load(std::memory_order_relaxed);
      if (best == nullptr || active < best_active) {
        best = &sampled;
        best_active = active;
      }
    }
    return *best;
  }

  double effectiveWeight(uint32_t priority, size_t index) const {
    const PreparedLevel& level = prepared().levels()[priority];
    const double weight = level.weights[index];
    const double bias = options_.active_request_bias;
    if (bias == 0.0) {
      return weight;
    }
    const double active =
        static_cast<double>(level.hosts[index]->active_requests.load(std::memory_order_relaxed)) +
        1.0;
    return bias == 1.0 ? weight / active : weight / std::pow(active, bias);
  }

  const LeastRequestOptions options_;
  // Per level; engaged only where weights differ.
  std::vector<std::optional<EdfScheduler>> schedulers_;
};

class LeastRequestFactory : public LoadBalancerFactory {
 public:
  LeastRequestFactory(std::shared_ptr<const PreparedPrioritySet> prepared,
                      const LeastRequestOptions& options)
      : prepared_(std::move(prepared)), options_(options) {}

  std::unique_ptr<LoadBalancer> create(uint64_t seed) const override {
    return std::make_unique<LeastRequestLoadBalancer>(prepared_, options_, seed);
  }

 private:
  const std::shared_ptr<const PreparedPrioritySet> prepared_;
  const LeastRequestOptions options_;
};

}  // namespace

std::shared_ptr<const LoadBalancerFactory> createLeastRequestFactory(
    std::shared_ptr<const PreparedPrioritySet> prepared, const LeastRequestOptions& options) {
  return std::make_shared<LeastRequestFactory>(std::move(prepared), options);
}

}  // namespace modgate::upstream
