#pragma once

#include <chrono>

#include "source/upstream/health/health_check_options.h"
#include "source/upstream/load_balancer/random.h"

namespace modgate::upstream {

// Where a host stands after a probe, for choosing the delay to the next one.
struct ProbeOutcome {
  bool healthy = true;      // the host's state after the probe
  bool changed = false;     // this probe changed the state
  bool has_traffic = true;  // the cluster has served a request
};

// Delay before the first probe of a host: uniform in [0, initial_jitter),
// so 0 (the next loop iteration) without jitter, as in Envoy.
std::chrono::milliseconds initialProbeDelay(const HealthCheckOptions& options, Random& random);

// Delay from the end of one probe to the next one. The base is
// no_traffic_interval while the cluster has no traffic, else
// healthy_edge_interval / unhealthy_edge_interval right after a state change
// (the documented meaning of the edge intervals) and interval /
// unhealthy_interval otherwise. Jitter as in Envoy's intervalWithJitter():
// base + [0, base * interval_jitter_percent / 100) + [0, interval_jitter),
// at least 1 ms.
std::chrono::milliseconds nextProbeDelay(const HealthCheckOptions& options,
                                         const ProbeOutcome& outcome, Random& random);

}  // namespace modgate::upstream
