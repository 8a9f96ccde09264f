#include "source/upstream/load_balancer/load_balancer_factory.h"

#include <utility>

#include "source/upstream/load_balancer/least_request_load_balancer.h"
#include "source/upstream/load_balancer/maglev_load_balancer.h"
#include "source/upstream/load_balancer/prepared_priority_set.h"
#include "source/upstream/load_balancer/random_load_balancer.h"
#include "source/upstream/load_balancer/ring_hash_load_balancer.h"
#include "source/upstream/load_balancer/round_robin_load_balancer.h"

namespace modgate::upstream {

std::shared_ptr<const LoadBalancerFactory> createLoadBalancerFactory(
    LbPolicy policy, const LbOptions& options, std::shared_ptr<const HostSetSnapshot> snapshot) {
  if (snapshot == nullptr || !validateLbOptions(policy, options).ok()) {
    return nullptr;
  }
  auto prepared = std::make_shared<const PreparedPrioritySet>(std::move(snapshot));
  switch (policy) {
    case LbPolicy::kRoundRobin:
      return createRoundRobinFactory(std::move(prepared));
    case LbPolicy::kLeastRequest:
      return createLeastRequestFactory(std::move(prepared), options.least_request);
    case LbPolicy::kRandom:
      return createRandomFactory(std::move(prepared));
    case LbPolicy::kRingHash:
      return createRingHashFactory(std::move(prepared), options.ring_hash,
                                   options.hash_balance_factor);
    case LbPolicy::kMaglev:
      return createMaglevFactory(std::move(prepared), options.maglev, options.hash_balance_factor);
  }
  return nullptr;
}

std::unique_ptr<LoadBalancer> createLoadBalancer(LbPolicy policy, const LbOptions& options,
                                                 std::shared_ptr<const HostSetSnapshot> snapshot,
                                                 uint64_t seed) {
  const std::shared_ptr<const LoadBalancerFactory> factory =
      createLoadBalancerFactory(policy, options, std::move(snapshot));
  return factory != nullptr ? factory->create(seed) : nullptr;
}

}  // namespace modgate::upstream
