#include "source/upstream/health/outlier_detector_impl.h"

#include <algorithm>
#include <random>

namespace modgate::upstream {
namespace {

using std::chrono::milliseconds;

uint64_t seedOrRandom(const std::optional<uint64_t>& seed) {
  if (seed.has_value()) return *seed;
  std::random_device device;
  return (static_cast<uint64_t>(device()) << 32) ^ device();
}

milliseconds atLeastOne(milliseconds value) { return std::max(value, milliseconds(1)); }

}  // namespace

std::unique_ptr<OutlierDetector> createOutlierDetector(event::Dispatcher& main_dispatcher,
                                                       const OutlierDetectionOptions& options,
                                                       OutlierDetectorCallbacks& callbacks,
                                                       std::optional<uint64_t> random_seed) {
  return std::make_unique<OutlierDetectorImpl>(main_dispatcher, options, callbacks,
                                               seedOrRandom(random_seed));
}

OutlierDetectorImpl::OutlierDetectorImpl(event::Dispatcher& main_dispatcher,
                                         const OutlierDetectionOptions& options,
                                         OutlierDetectorCallbacks& callbacks, uint64_t random_seed)
    : dispatcher_(main_dispatcher),
      options_(options),
      callbacks_(callbacks),
      random_(random_seed),
      interval_timer_(dispatcher_.createTimer([this] { onIntervalTimer(); })) {
  interval_timer_->enableTimer(atLeastOne(options_.interval));
}

OutlierDetectorImpl::~OutlierDetectorImpl() { alive_.reset(); }

OutlierMonitorSharedPtr OutlierDetectorImpl::addHost(HostSharedPtr host) {
  auto it = hosts_.find(host.get());
  if (it != hosts_.end()) return it->second.monitor;
  const Host* key = host.get();
  auto monitor = std::make_shared<OutlierMonitorImpl>(std::move(host), options_, dispatcher_,
                                                      static_cast<OutlierMonitorImpl::Sink&>(*this),
                                                      std::weak_ptr<void>(alive_));
  hosts_[key].monitor = monitor;
  return monitor;
}

void OutlierDetectorImpl::removeHost(const HostSharedPtr& host) {
  auto it = hosts_.find(host.get());
  if (it == hosts_.end()) return;
  if (it->second.ejected) --stats_.ejections_active;
  hosts_.erase(it);
}

OutlierMonitorSharedPtr OutlierDetectorImpl::monitor(const Host& host) const {
  auto it = hosts_.find(&host);
  return it == hosts_.end() ? nullptr : it->second.monitor;
}

bool OutlierDetectorImpl::ejected(const Host& host) const {
  auto it = hosts_.find(&host);
  return it != hosts_.end() && it->second.ejected;
}

std::vector<OutlierHostStats> OutlierDetectorImpl::hostStats() const {
  std::vector<OutlierHostStats> out;
  out.reserve(hosts_.size());
  for (const auto& [key, state] : hosts_) {
    OutlierHostStats s;
    s.host = state.monitor->host();
    s.ejected = state.ejected;
    s.times_ejected = state.times_ejected;
    s.ejection_multiplier = state.multiplier;
    s.last_ejection_time = state.last_ejection_time;
    s.consecutive_5xx = state.monitor->consecutive5xx();
    s.consecutive_gateway_failure = state.monitor->consecutiveGatewayFailure();
    s.consecutive_local_origin_failure = state.monitor->consecutiveLocalOriginFailure();
    out.push_back(std::move(s));
  }
  return out;
}

void OutlierDetectorImpl::onDetections(const std::shared_ptr<OutlierMonitorImpl>& monitor) {
  uint32_t detections = monitor->takeDetections();
  auto it = hosts_.find(monitor->host().get());
  // A removed host's (or a replaced monitor's) late report.
  if (it == hosts_.end() || it->second.monitor != monitor) return;
  bool ejected = false;
  // Gateway first, as the monitor counts them: if it ejects, the 5xx
  // detection of the same burst finds the host out and is dropped.
  for (auto detection :
       {OutlierMonitorImpl::kConsecutiveGatewayFailure, OutlierMonitorImpl::kConsecutive5xx,
        OutlierMonitorImpl::kConsecutiveLocalOriginFailure}) {
    if ((detections & detection) != 0) ejected |= onDetection(it->second, detection);
  }
  // Last: the callback may destroy the detector.
  if (ejected) callbacks_.onHostEjectionChanged(monitor->host(), true);
}

bool OutlierDetectorImpl::onDetection(HostState& state, OutlierMonitorImpl::Detection detection) {
  // Start the next streak from zero (Envoy does so too) so that a host is
  // detected again after another full run of failures, not never.
  state.monitor->resetCounter(detection);
  if (state.ejected) return false;
  switch (detection) {
    case OutlierMonitorImpl::kConsecutive5xx:
      ++stats_.ejections_detected_consecutive_5xx;
      break;
    case OutlierMonitorImpl::kConsecutiveGatewayFailure:
      ++stats_.ejections_detected_consecutive_gateway_failure;
      break;
    case OutlierMonitorImpl::kConsecutiveLocalOriginFailure:
      ++stats_.ejections_detected_consecutive_local_origin_failure;
      break;
  }
  // Enforcement first, then the cap, so that overflow only counts
  // ejections that would otherwise have happened (Envoy counts overflow
  // before rolling enforcement, so a detector at enforcing 0 inflates it).
  if (!enforced(detection)) return false;
  if (!ejectionAllowed()) {
    ++stats_.ejections_overflow;
    return false;
  }
  switch (detection) {
    case OutlierMonitorImpl::kConsecutive5xx:
      ++stats_.ejections_enforced_consecutive_5xx;
      break;
    case OutlierMonitorImpl::kConsecutiveGatewayFailure:
      ++stats_.ejections_enforced_consecutive_gateway_failure;
      break;
    case OutlierMonitorImpl::kConsecutiveLocalOriginFailure:
      ++stats_.ejections_enforced_consecutive_local_origin_failure;
      break;
  }
  ++stats_.ejections_enforced_total;
  ++stats_.ejections_active;
  state.ejected = true;
  ++state.times_ejected;
  state.last_ejection_time = dispatcher_.now();
  // Envoy's ejectTimeBackoff: stop growing just past the cap, so that a
  // long-failing host is forgiven in bounded time.
  if (options_.base_ejection_time * state.multiplier <
      options_.max_ejection_time + options_.base_ejection_time) {
    ++state.multiplier;
  }
  return true;
}

bool OutlierDetectorImpl::enforced(OutlierMonitorImpl::Detection detection) {
  uint32_t percent = 0;
  switch (detection) {
    case OutlierMonitorImpl::kConsecutive5xx:
      percent = options_.enforcing_consecutive_5xx;
      break;
    case OutlierMonitorImpl::kConsecutiveGatewayFailure:
      percent = options_.enforcing_consecutive_gateway_failure;
      break;
    case OutlierMonitorImpl::kConsecutiveLocalOriginFailure:
      percent = options_.enforcing_consecutive_local_origin_failure;
      break;
  }
  if (percent >= 100) return true;
  if (percent == 0) return false;
  return random_.uniform(100) < percent;
}

bool OutlierDetectorImpl::ejectionAllowed() const {
  // One host may always go (cluster.proto's documented rule; Envoy before
  // 1.27, or with always_eject_one_host). Beyond that, the share out after
  // this ejection must not exceed the cap: 100 * (active + 1) / hosts <=
  // percent, in integers.
  if (stats_.ejections_active == 0) return true;
  uint64_t cap = std::min<uint32_t>(options_.max_ejection_percent, 100);
  return 100 * (stats_.ejections_active + 1) <= cap * hosts_.size();
}

milliseconds OutlierDetectorImpl::ejectionDuration(const HostState& state) const {
  return EjectionDuration(options_, state.multiplier);
}

void OutlierDetectorImpl::onIntervalTimer() {
  event::MonotonicTime now = dispatcher_.now();
  std::vector<HostSharedPtr> unejected;
  for (auto& [key, state] : hosts_) {
    if (!state.ejected) {
      // A full interval not ejected: forgive one ejection's worth.
      if (state.multiplier > 0) --state.multiplier;
      continue;
    }
    if (now - *state.last_ejection_time >= ejectionDuration(state)) {
      state.ejected = false;
      --stats_.ejections_active;
      // Failures counted while out (requests already in flight) must not
      // send the host straight back out.
      state.monitor->resetCounter(OutlierMonitorImpl::kConsecutive5xx);
      state.monitor->resetCounter(OutlierMonitorImpl::kConsecutiveGatewayFailure);
      state.monitor->resetCounter(OutlierMonitorImpl::kConsecutiveLocalOriginFailure);
      unejected.push_back(state.monitor->host());
    }
  }
  interval_timer_->enableTimer(atLeastOne(options_.interval));
  // Callbacks last, each checked: any of them may destroy the detector.
  std::weak_ptr<bool> alive = alive_;
  for (const HostSharedPtr& host : unejected) {
    callbacks_.onHostEjectionChanged(host, false);
    if (alive.expired()) return;
  }
}

}  // namespace modgate::upstream
