#include "source/upstream/load_balancer/random_load_balancer.h"

#include <algorithm>
#include <utility>
#include <vector>

#include "source/upstream/load_balancer/load_balancer_base.h"

namespace modgate::upstream {
namespace {

// Per level, the running sums of the weights: a uniform draw below the total
// falls in host i's slice [cumulative[i-1], cumulative[i]).
using CumulativeWeights = std::vector<std::vector<uint64_t>>;

class RandomLoadBalancer : public LoadBalancerBase {
 public:
  RandomLoadBalancer(std::shared_ptr<const PreparedPrioritySet> prepared,
                     std::shared_ptr<const CumulativeWeights> cumulative, uint64_t seed)
      : LoadBalancerBase(std::move(prepared), seed, Selection::kRandomized),
        cumulative_(std::move(cumulative)) {}

 private:
  HostSharedPtr pickFromLevel(uint32_t priority, uint64_t, uint32_t) override {
    const PreparedLevel& level = prepared().levels()[priority];
    if (level.all_weights_equal) {
      return level.hosts[random().uniform(level.hosts.size())];
    }
    const std::vector<uint64_t>& sums = (*cumulative_)[priority];
    const uint64_t point = random().uniform(level.total_weight);
    const size_t index = std::upper_bound(sums.begin(), sums.end(), point) - sums.begin();
    return level.hosts[index];
  }

  const std::shared_ptr<const CumulativeWeights> cumulative_;
};

class RandomFactory : public LoadBalancerFactory {
 public:
  explicit RandomFactory(std::shared_ptr<const PreparedPrioritySet> prepared)
      : prepared_(std::move(prepared)) {
    auto cumulative = std::make_shared<CumulativeWeights>();
    for (const PreparedLevel& level : prepared_->levels()) {
      std::vector<uint64_t>& sums = cumulative->emplace_back();
      uint64_t sum = 0;
      for (const uint32_t weight : level.weights) {
        sum += weight;
        sums.push_back(sum);
      }
    }
    cumulative_ = std::move(cumulative);
  }

  std::unique_ptr<LoadBalancer> create(uint64_t seed) const override {
    return std::make_unique<RandomLoadBalancer>(prepared_, cumulative_, seed);
  }

 private:
  const std::shared_ptr<const PreparedPrioritySet> prepared_;
  std::shared_ptr<const CumulativeWeights> cumulative_;
};

}  // namespace

std::shared_ptr<const LoadBalancerFactory> createRandomFactory(
    std::shared_ptr<const PreparedPrioritySet> prepared) {
  return std::make_shared<RandomFactory>(std::move(prepared));
}

}  // namespace modgate::upstream
