#pragma once

#include <cstdint>
#include <memory>

#include "source/upstream/load_balancer/host_set.h"
#include "source/upstream/load_balancer/lb_options.h"
#include "source/upstream/load_balancer/load_balancer.h"

namespace modgate::upstream {

// The main thread's half: everything `policy` precomputes from `snapshot`,
// once per snapshot, for all workers. nullptr if validateLbOptions() rejects
// `options` (validate them when loading config) or `snapshot` is null.
std::shared_ptr<const LoadBalancerFactory> createLoadBalancerFactory(
    LbPolicy policy, const LbOptions& options, std::shared_ptr<const HostSetSnapshot> snapshot);

// Both halves at once: createLoadBalancerFactory(...)->create(seed). Handy
// for one balancer; with several workers, share one factory instead so the
// hash tables are built once.
std::unique_ptr<LoadBalancer> createLoadBalancer(LbPolicy policy, const LbOptions& options,
                                                 std::shared_ptr<const HostSetSnapshot> snapshot,
                                                 uint64_t seed);

}  // namespace modgate::upstream
