#include "source/upstream/load_balancer/bounded_load.h"

#include <algorithm>
#include <cmath>
#include <numeric>

#include "source/upstream/load_balancer/random.h"

namespace modgate::upstream {

double BoundedLoad::overloadFactor(const Host& host, double weight, uint64_t cluster_active) const {
  // The +1 counts the request being placed.
  const uint64_t total_slots = ((cluster_active + 1) * factor_ + 99) / 100;
  const uint64_t slots =
      std::max<uint64_t>(1, static_cast<uint64_t>(std::ceil(total_slots * weight)));
  return static_cast<double>(host.active_requests.load(std::memory_order_relaxed)) /
         static_cast<double>(slots);
}

uint32_t BoundedLoad::choose(uint32_t primary, uint64_t hash,
                             const std::vector<HostSharedPtr>& hosts,
                             const std::vector<double>& normalized_weights, uint64_t cluster_active,
                             std::vector<uint32_t>& scratch) const {
  double least_overload =
      overloadFactor(*hosts[primary], normalized_weights[primary], cluster_active);
  if (least_overload <= 1.0) {
    return primary;
  }
  uint32_t least_overloaded = primary;

  // A Fisher-Yates shuffle drawn lazily: only as far as it takes to find a
  // host with room. Seeded by the hash so that a key's fallback is stable.
  const uint32_t n = static_cast<uint32_t>(hosts.size());
  scratch.resize(n);
  std::iota(scratch.begin(), scratch.end(), 0);
  Random random(hash);
  for (uint32_t i = 0; i < n; ++i) {
    std::swap(scratch[i], scratch[i + random.uniform(n - i)]);
    const uint32_t candidate = scratch[i];
    if (candidate == primary) {
      continue;
    }
    const double overload =
        overloadFactor(*hosts[candidate], normalized_weights[candidate], cluster_active);
    if (overload <= 1.0) {
      return candidate;
    }
    if (overload < least_overload) {
      least_overload = overload;
      least_overloaded = candidate;
    }
  }
  return least_overloaded;
}

}  // namespace modgate::upstream
