#pragma once

#include <memory>

#include "source/upstream/load_balancer/load_balancer.h"
#include "source/upstream/load_balancer/prepared_priority_set.h"

namespace modgate::upstream {

// Random within each priority level, in proportion to weight. (Envoy's random
// policy ignores weights; honouring them costs nothing when they are equal
// and means the same thing as everywhere else when they are not.)
std::shared_ptr<const LoadBalancerFactory> createRandomFactory(
    std::shared_ptr<const PreparedPrioritySet> prepared);

}  // namespace modgate::upstream
