#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <vector>

#include "source/common/event/dispatcher.h"
#include "source/upstream/health/outlier_detection_options.h"
#include "source/upstream/health/outlier_result.h"
#include "source/upstream/load_balancer/host.h"

namespace modgate::upstream {

// The request path's handle on one host's outlier detection. Workers hold
// it (in the snapshot they balance over) and report every request's outcome.
class OutlierMonitor {
 public:
  virtual ~OutlierMonitor() = default;
  // Any thread, lock-free: atomics only, except that a counter reaching its
  // threshold posts one task to the main dispatcher.
  virtual void putResult(OutlierResult result) = 0;
};
using OutlierMonitorSharedPtr = std::shared_ptr<OutlierMonitor>;

// Called on the main dispatcher; may destroy the detector.
class OutlierDetectorCallbacks {
 public:
  virtual ~OutlierDetectorCallbacks() = default;
  virtual void onHostEjectionChanged(const HostSharedPtr& host, bool ejected) = 0;
};

struct OutlierHostStats {
  HostSharedPtr host;
  bool ejected = false;
  // Every ejection so far (Envoy's num_ejections; only grows).
  uint32_t times_ejected = 0;
  // What base_ejection_time is multiplied by: + 1 per ejection, - 1 per
  // interval sweep that finds the host not ejected (Envoy's
  // ejectTimeBackoff), so a host that stays good is forgiven over time.
  uint32_t ejection_multiplier = 0;
  std::optional<event::MonotonicTime> last_ejection_time;
  // The live counters (racy snapshots of the workers' atomics).
  uint32_t consecutive_5xx = 0;
  uint32_t consecutive_gateway_failure = 0;
  uint32_t consecutive_local_origin_failure = 0;
};

// Envoy's outlier_detection.* counters, per cluster.
struct OutlierClusterStats {
  uint64_t ejections_active = 0;
  uint64_t ejections_enforced_total = 0;
  // Ejections an enforced detection wanted but max_ejection_percent refused.
  uint64_t ejections_overflow = 0;
  uint64_t ejections_detected_consecutive_5xx = 0;
  uint64_t ejections_enforced_consecutive_5xx = 0;
  uint64_t ejections_detected_consecutive_gateway_failure = 0;
  uint64_t ejections_enforced_consecutive_gateway_failure = 0;
  uint64_t ejections_detected_consecutive_local_origin_failure = 0;
  uint64_t ejections_enforced_consecutive_local_origin_failure = 0;
};

// Passive health checking of one cluster: Envoy's consecutive-failure
// detectors. Main dispatcher only, except the monitors' putResult().
//
// A detection is handled as soon as the main dispatcher gets to it. It
// ejects when its enforcing_* roll passes and the share of the cluster's
// hosts out after this ejection would be at most max_ejection_percent, or
// when no host is out at all (at least one host can always be ejected, as
// cluster.proto documents; Envoy 1.27+ needs always_eject_one_host for that).
// An ejection lasts min(base_ejection_time x multiplier, max_ejection_time);
// the interval sweep brings hosts back, as in Envoy, so a host is out for
// up to one interval longer.
class OutlierDetector {
 public:
  virtual ~OutlierDetector() = default;

  // Starts tracking a host (not ejected) and returns its monitor, or the
  // existing one if already tracked. The monitor may outlive the detector
  // (a worker's snapshot), but not the main dispatcher.
  virtual OutlierMonitorSharedPtr addHost(HostSharedPtr host) = 0;
  // Forgets a host; its monitor's reports are ignored from now on.
  virtual void removeHost(const HostSharedPtr& host) = 0;
  virtual OutlierMonitorSharedPtr monitor(const Host& host) const = 0;

  virtual bool ejected(const Host& host) const = 0;
  virtual std::vector<OutlierHostStats> hostStats() const = 0;
  virtual OutlierClusterStats stats() const = 0;
};

std::unique_ptr<OutlierDetector> createOutlierDetector(
    event::Dispatcher& main_dispatcher, const OutlierDetectionOptions& options,
    OutlierDetectorCallbacks& callbacks, std::optional<uint64_t> random_seed = std::nullopt);

}  // namespace modgate::upstream
