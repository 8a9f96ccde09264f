#include "source/upstream/load_balancer/hashing_load_balancer.h"

#include <algorithm>
#include <optional>
#include <utility>

#include "source/upstream/load_balancer/bounded_load.h"
#include "source/upstream/load_balancer/load_balancer_base.h"

namespace modgate::upstream {
namespace {

struct HashingLevel {
  std::unique_ptr<const HostHashTable> table;  // null for an empty level
  std::vector<double> normalized_weights;
};

// Immutable after construction; shared by the factory and its balancers.
struct HashingState {
  std::vector<HashingLevel> levels;
  std::optional<BoundedLoad> bounded_load;
  size_t largest_level = 0;
};

class HashingLoadBalancer : public LoadBalancerBase {
 public:
  HashingLoadBalancer(std::shared_ptr<const PreparedPrioritySet> prepared,
                      std::shared_ptr<const HashingState> state, uint64_t seed)
      : LoadBalancerBase(std::move(prepared), seed, Selection::kHashed), state_(std::move(state)) {
    if (state_->bounded_load.has_value()) {
      scratch_.reserve(state_->largest_level);
    }
  }

 private:
  HostSharedPtr pickFromLevel(uint32_t priority, uint64_t hash, uint32_t attempt) override {
    const HashingLevel& level = state_->levels[priority];
    const std::vector<HostSharedPtr>& hosts = prepared().levels()[priority].hosts;
    uint32_t index = level.table->chooseIndex(hash, attempt);
    if (state_->bounded_load.has_value()) {
      index = state_->bounded_load->choose(index, hash, hosts, level.normalized_weights,
                                           prepared().activeRequests(), scratch_);
    }
    return hosts[index];
  }

  const std::shared_ptr<const HashingState> state_;
  std::vector<uint32_t> scratch_;
};

class HashingFactory : public LoadBalancerFactory {
 public:
  HashingFactory(std::shared_ptr<const PreparedPrioritySet> prepared,
                 std::shared_ptr<const HashingState> state)
      : prepared_(std::move(prepared)), state_(std::move(state)) {}

  std::unique_ptr<LoadBalancer> create(uint64_t seed) const override {
    return std::make_unique<HashingLoadBalancer>(prepared_, state_, seed);
  }

 private:
  const std::shared_ptr<const PreparedPrioritySet> prepared_;
  const std::shared_ptr<const HashingState> state_;
};

}  // namespace

std::shared_ptr<const LoadBalancerFactory> createHashingFactory(
    std::shared_ptr<const PreparedPrioritySet> prepared, const HostHashTableBuilder& build_table,
    uint32_t hash_balance_factor) {
  auto state = std::make_shared<HashingState>();
  if (hash_balance_factor > 0) {
    state->bounded_load.emplace(hash_balance_factor);
  }
  for (const PreparedLevel& prepared_level : prepared->levels()) {
    HashingLevel& level = state->levels.emplace_back();
    state->largest_level = std::max(state->largest_level, prepared_level.hosts.size());
    if (prepared_level.hosts.empty()) {
      continue;
    }
    std::vector<HashTableEntry> entries;
    entries.reserve(prepared_level.hosts.size());
    for (size_t i = 0; i < prepared_level.hosts.size(); ++i) {
      const double weight = static_cast<double>(prepared_level.weights[i]) /
                            static_cast<double>(prepared_level.total_weight);
      level.normalized_weights.push_back(weight);
      entries.push_back(HashTableEntry{prepared_level.hosts[i]->name, weight});
    }
    level.table = build_table(entries);
  }
  return std::make_shared<HashingFactory>(std::move(prepared), std::move(state));
}

}  // namespace modgate::upstream
