#pragma once

#include <memory>

#include "source/upstream/load_balancer/lb_options.h"
#include "source/upstream/load_balancer/load_balancer.h"
#include "source/upstream/load_balancer/prepared_priority_set.h"

namespace modgate::upstream {

// Envoy's least request, within each priority level:
//  - all weights equal: sample choice_count hosts uniformly (with
//    replacement) and take the one with the fewest active requests, the
//    first sampled on ties ("power of two choices" for the default 2);
//  - unequal weights: earliest-deadline-first scheduling (EdfScheduler) on
//    the effective weight weight / (active_requests + 1)^active_request_bias,
//    re-read each time a host is scheduled, so busy hosts come due later
//    while the configured weights still set the long-run shares.
std::shared_ptr<const LoadBalancerFactory> createLeastRequestFactory(
    std::shared_ptr<const PreparedPrioritySet> prepared, const LeastRequestOptions& options);

}  // namespace modgate::upstream
