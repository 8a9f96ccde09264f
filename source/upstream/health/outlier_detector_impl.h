#pragma once

#include <memory>
#include <optional>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "source/upstream/health/outlier_detector.h"
#include "source/upstream/health/outlier_monitor_impl.h"
#include "source/upstream/load_balancer/random.h"

namespace modgate::upstream {

class OutlierDetectorImpl : public OutlierDetector, private OutlierMonitorImpl::Sink {
 public:
  OutlierDetectorImpl(event::Dispatcher& main_dispatcher, const OutlierDetectionOptions& options,
                      OutlierDetectorCallbacks& callbacks, uint64_t random_seed);
  ~OutlierDetectorImpl() override;

  // OutlierDetector
  OutlierMonitorSharedPtr addHost(HostSharedPtr host) override;
  void removeHost(const HostSharedPtr& host) override;
  OutlierMonitorSharedPtr monitor(const Host& host) const override;
  bool ejected(const Host& host) const override;
  std::vector<OutlierHostStats> hostStats() const override;
  OutlierClusterStats stats() const override { return stats_; }

 private:
  struct HostState {
    std::shared_ptr<OutlierMonitorImpl> monitor;
    bool ejected = false;
    uint32_t times_ejected = 0;
    uint32_t multiplier = 0;
    std::optional<event::MonotonicTime> last_ejection_time;
  };

  // OutlierMonitorImpl::Sink
  void onDetections(const std::shared_ptr<OutlierMonitorImpl>& monitor) override;

  // Handles one detection; true if it ejected the host.
  bool onDetection(HostState& state, OutlierMonitorImpl::Detection detection);
  bool enforced(OutlierMonitorImpl::Detection detection);
  bool ejectionAllowed() const;
  std::chrono::milliseconds ejectionDuration(const HostState& state) const;
  void onIntervalTimer();

  event::Dispatcher& dispatcher_;
  const OutlierDetectionOptions options_;
  OutlierDetectorCallbacks& callbacks_;
  Random random_;
  absl::flat_hash_map<const Host*, HostState> hosts_;
  OutlierClusterStats stats_;
  event::TimerPtr interval_timer_;
  // Expires with the detector: monitors' posted tasks and code that calls
  // out more than once (callbacks may destroy the detector) check it.
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace modgate::upstream
