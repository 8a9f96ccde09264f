#include "source/upstream/load_balancer/maglev_load_balancer.h"

#include <utility>

#include "source/upstream/load_balancer/hashing_load_balancer.h"
#include "source/upstream/load_balancer/maglev_table.h"

namespace modgate::upstream {

std::shared_ptr<const LoadBalancerFactory> createMaglevFactory(
    std::shared_ptr<const PreparedPrioritySet> prepared, const MaglevOptions& options,
    uint32_t hash_balance_factor) {
  return createHashingFactory(
      std::move(prepared),
      [options](const std::vector<HashTableEntry>& entries) {
        return std::make_unique<const MaglevTable>(entries, options.table_size);
      },
      hash_balance_factor);
}

}  // namespace modgate::upstream
