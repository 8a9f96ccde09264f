#include "source/upstream/load_balancer/ring_hash_load_balancer.h"

#include <utility>

#include "source/upstream/load_balancer/hash_ring.h"
#include "source/upstream/load_balancer/hashing_load_balancer.h"

namespace modgate::upstream {

std::shared_ptr<const LoadBalancerFactory> createRingHashFactory(
    std::shared_ptr<const PreparedPrioritySet> prepared, const RingHashOptions& options,
    uint32_t hash_balance_factor) {
  return createHashingFactory(
      std::move(prepared),
      [options](const std::vector<HashTableEntry>& entries) {
        return std::make_unique<const HashRing>(entries, options.minimum_ring_size,
                                                options.maximum_ring_size);
      },
      hash_balance_factor);
}

}  // namespace modgate::upstream
