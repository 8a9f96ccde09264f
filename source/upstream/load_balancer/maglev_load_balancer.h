#pragma once

#include <cstdint>
#include <memory>

#include "source/upstream/load_balancer/lb_options.h"
#include "source/upstream/load_balancer/load_balancer.h"
#include "source/upstream/load_balancer/prepared_priority_set.h"

namespace modgate::upstream {

// Maglev per priority level (MaglevTable), optionally with bounded loads.
std::shared_ptr<const LoadBalancerFactory> createMaglevFactory(
    std::shared_ptr<const PreparedPrioritySet> prepared, const MaglevOptions& options,
    uint32_t hash_balance_factor);

}  // namespace modgate::upstream
