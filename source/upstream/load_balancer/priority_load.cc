#include "source/upstream/load_balancer/priority_load.h"

#include <algorithm>

namespace modgate::upstream {
namespace {

uint64_t weightOf(const Host& host) {
  return std::max<uint32_t>(1, host.weight.load(std::memory_order_relaxed));
}

// Integer percent, as Envoy computes it, so that thresholds such as "72% of
// hosts healthy is still 100% health" land exactly where Envoy's do.
uint32_t levelHealth(const PriorityLevel& level, const HostSetOptions& options) {
  uint64_t healthy = level.healthy_hosts.size();
  uint64_t total = level.hosts.size();
  if (options.weighted_priority_health) {
    healthy = 0;
    total = 0;
    for (const HostSharedPtr& host : level.healthy_hosts) {
      healthy += weightOf(*host);
    }
    for (const HostSharedPtr& host : level.hosts) {
      total += weightOf(*host);
    }
  }
  if (total == 0) {
    return 0;
  }
  return static_cast<uint32_t>(
      std::min<uint64_t>(100, uint64_t{options.overprovisioning_factor} * healthy / total));
}

bool levelInPanic(const PriorityLevel& level, double threshold) {
  const double healthy_percent =
      level.hosts.empty() ? 0.0 : 100.0 * level.healthy_hosts.size() / level.hosts.size();
  return healthy_percent < threshold;
}

// Every level in panic: health says nothing useful, so spread by size.
void loadByHostCount(const HostSetSnapshot& snapshot, PriorityLoad& load) {
  uint64_t total_hosts = 0;
  for (const PriorityLevel& level : snapshot.priorities) {
    total_hosts += level.hosts.size();
  }
  std::fill(load.percent.begin(), load.percent.end(), 0);
  if (total_hosts == 0) {
    load.percent[0] = 100;
    return;
  }
  uint32_t remaining = 100;
  int first_non_empty = -1;
  for (size_t i = 0; i < snapshot.priorities.size(); ++i) {
    const uint64_t hosts = snapshot.priorities[i].hosts.size();
    if (first_non_empty < 0 && hosts != 0) {
      first_non_empty = static_cast<int>(i);
    }
    load.percent[i] = static_cast<uint32_t>(100 * hosts / total_hosts);
    remaining -= load.percent[i];
  }
  load.percent[first_non_empty] += remaining;
}

}  // namespace

PriorityLoad computePriorityLoad(const HostSetSnapshot& snapshot) {
  const size_t levels = snapshot.priorities.size();
  PriorityLoad load;
  load.percent.assign(levels, 0);
  load.panic.assign(levels, false);
  if (levels == 0) {
    return load;
  }

  std::vector<uint32_t> health(levels);
  uint32_t total_health = 0;
  for (size_t i = 0; i < levels; ++i) {
    health[i] = levelHealth(snapshot.priorities[i], snapshot.options);
    total_health += health[i];
  }
  const uint32_t normalized_total_health = std::min<uint32_t>(100, total_health);
  const double threshold = std::min(100.0, snapshot.options.healthy_panic_threshold);

  if (normalized_total_health == 0 && threshold <= 0.0) {
    load.percent[0] = 100;
    return load;
  }

  if (normalized_total_health > 0) {
    uint32_t remaining = 100;
    int first_healthy = -1;
    for (size_t i = 0; i < levels; ++i) {
      if (first_healthy < 0 && health[i] > 0) {
        first_healthy = static_cast<int>(i);
      }
      load.percent[i] = std::min(remaining, health[i] * 100 / normalized_total_health);
      remaining -= load.percent[i];
    }
    // Only rounding losses from the scaling can remain.
    load.percent[first_healthy] += remaining;
  }

  // A level at full normalized health never panics, however few of one
  // level's hosts are healthy: the other levels absorb its share.
  bool total_panic = true;
  for (size_t i = 0; i < levels; ++i) {
    load.panic[i] =
        normalized_total_health < 100 &&
        (normalized_total_health == 0 || levelInPanic(snapshot.priorities[i], threshold));
    total_panic = total_panic && load.panic[i];
  }
  if (total_panic) {
    loadByHostCount(snapshot, load);
  }
  return load;
}

uint32_t choosePriority(const PriorityLoad& load, uint64_t hash) {
  const uint64_t point = hash % 100 + 1;
  uint64_t cumulative = 0;
  for (size_t i = 0; i < load.percent.size(); ++i) {
    cumulative += load.percent[i];
    if (point <= cumulative) {
      return static_cast<uint32_t>(i);
    }
  }
  // Unreachable while the percentages sum to 100.
  return 0;
}

}  // namespace modgate::upstream
