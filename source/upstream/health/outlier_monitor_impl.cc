#include "source/upstream/health/outlier_monitor_impl.h"

namespace modgate::upstream {

// If these took a hidden lock, putResult() would too.
static_assert(std::atomic<uint32_t>::is_always_lock_free);

OutlierMonitorImpl::OutlierMonitorImpl(HostSharedPtr host, const OutlierDetectionOptions& options,
                                       event::Dispatcher& main_dispatcher, Sink& sink,
                                       std::weak_ptr<void> sink_alive)
    : host_(std::move(host)),
      consecutive_5xx_threshold_(options.consecutive_5xx),
      consecutive_gateway_failure_threshold_(options.consecutive_gateway_failure),
      consecutive_local_origin_failure_threshold_(options.consecutive_local_origin_failure),
      split_local_origin_(options.split_external_local_origin_errors),
      main_dispatcher_(main_dispatcher),
      sink_(sink),
      sink_alive_(std::move(sink_alive)) {}

void OutlierMonitorImpl::putResult(OutlierResult result) {
  switch (result) {
    case OutlierResult::kSuccess:
      consecutive_5xx_.store(0, std::memory_order_relaxed);
      consecutive_gateway_failure_.store(0, std::memory_order_relaxed);
      if (split_local_origin_)
        consecutive_local_origin_failure_.store(0, std::memory_order_relaxed);
      return;
    case OutlierResult::k5xx:
      if (split_local_origin_)
        consecutive_local_origin_failure_.store(0, std::memory_order_relaxed);
      consecutive_gateway_failure_.store(0, std::memory_order_relaxed);
      count(consecutive_5xx_, consecutive_5xx_threshold_, kConsecutive5xx);
      return;
    case OutlierResult::kGatewayFailure:
      if (split_local_origin_)
        consecutive_local_origin_failure_.store(0, std::memory_order_relaxed);
      break;
    case OutlierResult::kConnectFailure:
    case OutlierResult::kReset:
    case OutlierResult::kTimeout:
      if (split_local_origin_) {
        count(consecutive_local_origin_failure_, consecutive_local_origin_failure_threshold_,
              kConsecutiveLocalOriginFailure);
        return;
      }
      // Not split: a 503 (504 for a timeout), which is a gateway failure.
      break;
  }
  // Gateway failures count on both detectors, gateway first as in Envoy.
  count(consecutive_gateway_failure_, consecutive_gateway_failure_threshold_,
        kConsecutiveGatewayFailure);
  count(consecutive_5xx_, consecutive_5xx_threshold_, kConsecutive5xx);
}

void OutlierMonitorImpl::count(std::atomic<uint32_t>& counter, uint32_t threshold,
                               Detection detection) {
  if (counter.fetch_add(1, std::memory_order_relaxed) + 1 == threshold) report(detection);
}

void OutlierMonitorImpl::report(Detection detection) {
  if (pending_.fetch_or(detection, std::memory_order_acq_rel) != 0) return;
  // The task keeps the monitor alive; the sink (the detector) may be gone
  // by the time it runs, which the weak token tells on the main thread,
  // where the detector is destroyed.
  main_dispatcher_.post([self = shared_from_this(), sink = &sink_, alive = sink_alive_] {
    if (alive.lock() != nullptr) sink->onDetections(self);
  });
}

void OutlierMonitorImpl::resetCounter(Detection detection) {
  switch (detection) {
    case kConsecutiveGatewayFailure:
      consecutive_gateway_failure_.store(0, std::memory_order_relaxed);
      break;
    case kConsecutive5xx:
      consecutive_5xx_.store(0, std::memory_order_relaxed);
      break;
    case kConsecutiveLocalOriginFailure:
      consecutive_local_origin_failure_.store(0, std::memory_order_relaxed);
      break;
  }
}

}  // namespace modgate::upstream
