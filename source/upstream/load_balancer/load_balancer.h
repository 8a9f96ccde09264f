#pragma once

#include <cstdint>
#include <memory>
#include <optional>

#include "source/upstream/load_balancer/host.h"

namespace modgate::upstream {

// What a request tells the balancer about itself. Every method has a
// neutral default so callers override only what they use.
class LoadBalancerContext {
 public:
  virtual ~LoadBalancerContext() = default;

  // The request's affinity hash (see hashModulePath()). Ring hash and Maglev
  // route on it; without one they pick at random. Other policies ignore it.
  virtual std::optional<uint64_t> hashKey() const { return std::nullopt; }

  // Retry host predicate: true rejects `host` (typically because an earlier
  // attempt of this request already went there) and the balancer picks again,
  // at most hostSelectionRetryCount() more times. If every pick is rejected
  // the last one is returned anyway: a rejected host beats no host.
  virtual bool shouldSelectAnotherHost(const Host& /*host*/) const { return false; }

  virtual uint32_t hostSelectionRetryCount() const { return 0; }
};

// Chooses an upstream host per request. Each worker thread owns its
// balancers, so implementations are not thread-safe; the hosts' live counters
// they read are atomics shared across workers.
class LoadBalancer {
 public:
  virtual ~LoadBalancer() = default;

  // nullptr when there is no host to choose. `context` may be null.
  virtual HostSharedPtr chooseHost(LoadBalancerContext* context) = 0;
};

// Everything a policy can precompute from one snapshot (priority loads, hash
// rings, Maglev tables), built once on the main thread and shared read-only by
// the workers, each of which creates its own balancer from it.
class LoadBalancerFactory {
 public:
  virtual ~LoadBalancerFactory() = default;

  // Thread-safe. `seed` should differ per worker: it seeds the balancer's
  // random stream and staggers round-robin starting points, so that workers
  // do not move through the hosts in lockstep.
  virtual std::unique_ptr<LoadBalancer> create(uint64_t seed) const = 0;
};

}  // namespace modgate::upstream
