#include "source/canary/side_stats.h"

#include <algorithm>

namespace modgate::canary {

void toSideStats(const OutcomeCounts& counts, service::fleet::v1::SideStats& out) {
  out.set_requests(counts.requests());
  out.set_responses_5xx(counts.five_xx);
  out.set_upstream_failures(counts.upstream_failures);
  out.set_shadow_matches(counts.shadow_matches);
  out.set_shadow_mismatches(counts.shadow_mismatches);
  size_t used = LatencyBuckets::kCount;
  while (used > 0 && counts.latency[used - 1] == 0) --used;
  out.clear_latency_buckets();
  for (size_t i = 0; i < used; ++i) out.add_latency_buckets(counts.latency[i]);
}

OutcomeCounts fromSideStats(const service::fleet::v1::SideStats& stats) {
  OutcomeCounts counts;
  counts.five_xx = std::min(stats.responses_5xx(), stats.requests());
  counts.upstream_failures = std::min(stats.upstream_failures(), stats.requests() - counts.five_xx);
  counts.successes = stats.requests() - counts.five_xx - counts.upstream_failures;
  counts.shadow_matches = stats.shadow_matches();
  counts.shadow_mismatches = stats.shadow_mismatches();
  const size_t used = std::min<size_t>(stats.latency_buckets_size(), LatencyBuckets::kCount);
  for (size_t i = 0; i < used; ++i) counts.latency[i] = stats.latency_buckets(static_cast<int>(i));
  return counts;
}

}  // namespace modgate::canary
