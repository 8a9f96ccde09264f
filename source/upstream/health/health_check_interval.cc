#include "source/upstream/health/health_check_interval.h"

#include <algorithm>
#include <cstdint>

namespace modgate::upstream {
namespace {

using std::chrono::milliseconds;

uint64_t positive(milliseconds value) {
  return value.count() > 0 ? static_cast<uint64_t>(value.count()) : 0;
}

milliseconds atLeastOne(uint64_t ms) { return milliseconds(std::max<uint64_t>(ms, 1)); }

}  // namespace

milliseconds initialProbeDelay(const HealthCheckOptions& options, Random& random) {
  uint64_t jitter = positive(options.initial_jitter);
  return milliseconds(jitter > 0 ? random.uniform(jitter) : 0);
}

milliseconds nextProbeDelay(const HealthCheckOptions& options, const ProbeOutcome& outcome,
                            Random& random) {
  milliseconds unhealthy = options.unhealthy_interval.value_or(options.interval);
  milliseconds base;
  if (!outcome.has_traffic) {
    base = options.no_traffic_interval;
  } else if (outcome.healthy) {
    base = outcome.changed ? options.healthy_edge_interval.value_or(options.interval)
                           : options.interval;
  } else {
    base = outcome.changed ? options.unhealthy_edge_interval.value_or(unhealthy) : unhealthy;
  }
  uint64_t ms = positive(base);
  uint64_t percent_span = ms * std::min<uint32_t>(options.interval_jitter_percent, 100) / 100;
  if (percent_span > 0) ms += random.uniform(percent_span);
  uint64_t jitter = positive(options.interval_jitter);
  if (jitter > 0) ms += random.uniform(jitter);
  return atLeastOne(ms);
}

}  // namespace modgate::upstream
