#pragma once

#include <cstdint>

#include "source/canary/latency_histogram.h"
#include "source/canary/outcome_window.h"

namespace modgate::canary {

// One cluster's outcomes counted over some seconds, in a form that adds up:
// what a sidecar reports for one interval (the deltas since its previous
// report) and what the control plane sums over the fleet before the gates
// read it. A WindowSnapshot (ratios, a p99) does not add up; these counts do.
struct OutcomeCounts {
  uint64_t successes = 0;
  uint64_t five_xx = 0;
  uint64_t upstream_failures = 0;
  uint64_t shadow_matches = 0;
  uint64_t shadow_mismatches = 0;
  LatencyBuckets::Counts latency{};

  void add(const OutcomeCounts& other);
  uint64_t requests() const { return successes + five_xx + upstream_failures; }
  bool empty() const { return requests() == 0 && shadow_matches + shadow_mismatches == 0; }
  // What the gates read.
  WindowSnapshot summary() const;
};

}  // namespace modgate::canary
