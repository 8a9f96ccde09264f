#pragma once

#include <memory>

#include "source/upstream/load_balancer/load_balancer.h"
#include "source/upstream/load_balancer/prepared_priority_set.h"

namespace modgate::upstream {

// Smooth weighted round robin within each priority level (see
// SmoothWeightedRoundRobin). Each worker's balancer starts seed % hosts picks
// into the cycle, so that workers do not all begin on the same host.
std::shared_ptr<const LoadBalancerFactory> createRoundRobinFactory(
    std::shared_ptr<const PreparedPrioritySet> prepared);

}  // namespace modgate::upstream
