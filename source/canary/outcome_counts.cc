#include "source/canary/outcome_counts.h"

namespace modgate::canary {

void OutcomeCounts::add(const OutcomeCounts& other) {
  successes += other.successes;
  five_xx += other.five_xx;
  upstream_failures += other.upstream_failures;
  shadow_matches += other.shadow_matches;
  shadow_mismatches += other.shadow_mismatches;
  for (size_t i = 0; i < LatencyBuckets::kCount; ++i) latency[i] += other.latency[i];
}

WindowSnapshot OutcomeCounts::summary() const {
  WindowSnapshot out;
  out.five_xx = five_xx;
  out.upstream_failures = upstream_failures;
  out.errors = five_xx + upstream_failures;
  out.requests = requests();
  out.error_ratio =
      out.requests == 0 ? 0 : static_cast<double>(out.errors) / static_cast<double>(out.requests);
  out.p99_ms = LatencyBuckets::quantileMs(latency, 0.99);
  out.mismatches = shadow_mismatches;
  out.shadow_comparisons = shadow_matches + shadow_mismatches;
  return out;
}

}  // namespace modgate::canary
