#pragma once

#include <cstdint>
#include <memory>

#include "source/upstream/load_balancer/load_balancer.h"
#include "source/upstream/load_balancer/prepared_priority_set.h"
#include "source/upstream/load_balancer/random.h"

namespace modgate::upstream {

// The part every policy shares: choose a priority level, pick a host in it,
// and re-pick while the context's retry predicate rejects the host.
//
// Two retry shapes, as in Envoy. Policies that pick by chance (round robin,
// least request, random) choose the level afresh on each attempt. Hashing
// policies keep the level the hash chose and pass the attempt number down, so
// that the table can step deterministically to another host.
class LoadBalancerBase : public LoadBalancer {
 public:
  HostSharedPtr chooseHost(LoadBalancerContext* context) final;

 protected:
  enum class Selection { kRandomized, kHashed };

  LoadBalancerBase(std::shared_ptr<const PreparedPrioritySet> prepared, uint64_t seed,
                   Selection selection);

  // A host from `priority`'s prepared hosts, which are never empty here.
  // `hash` is the request's hash for kHashed policies (a random value when it
  // has none), unspecified for kRandomized ones; `attempt` counts from 0.
  virtual HostSharedPtr pickFromLevel(uint32_t priority, uint64_t hash, uint32_t attempt) = 0;

  const PreparedPrioritySet& prepared() const { return *prepared_; }
  Random& random() { return random_; }

 private:
  HostSharedPtr pickOnce(uint32_t priority, uint64_t hash, uint32_t attempt);

  const std::shared_ptr<const PreparedPrioritySet> prepared_;
  Random random_;
  const Selection selection_;
};

}  // namespace modgate::upstream
