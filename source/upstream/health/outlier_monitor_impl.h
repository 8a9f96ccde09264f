#pragma once

#include <atomic>
#include <cstdint>
#include <memory>

#include "source/common/event/dispatcher.h"
#include "source/upstream/health/outlier_detection_options.h"
#include "source/upstream/health/outlier_detector.h"

namespace modgate::upstream {

// The consecutive-failure counters of one host.
//
// Lock-free by construction: workers on many threads report concurrently
// and the request path must never wait, so the monitor holds only atomics
// and immutable data, and has no mutex. Each counter is a single atomic
// word: fetch_add hands every increment a distinct previous value, so
// exactly one reporter sees the counter reach its threshold (`==`, as in
// Envoy), however the threads interleave. That reporter sets a bit in
// `pending_`; only the one that turns it from 0 to non-zero posts to the
// main dispatcher (the post's queue is the only lock anywhere near here,
// taken at most once per host until the main thread has looked). The main
// thread takes the bits with exchange(0), so no detection is lost and at
// most one task per host is ever queued.
class OutlierMonitorImpl : public OutlierMonitor,
                           public std::enable_shared_from_this<OutlierMonitorImpl> {
 public:
  enum Detection : uint32_t {
    kConsecutiveGatewayFailure = 1,
    kConsecutive5xx = 2,
    kConsecutiveLocalOriginFailure = 4,
  };

  // Handles a monitor's detections on the main dispatcher.
  class Sink {
   public:
    virtual ~Sink() = default;
    virtual void onDetections(const std::shared_ptr<OutlierMonitorImpl>& monitor) = 0;
  };

  // `sink` is only used on the main dispatcher, and only while `sink_alive`
  // has not expired.
  OutlierMonitorImpl(HostSharedPtr host, const OutlierDetectionOptions& options,
                     event::Dispatcher& main_dispatcher, Sink& sink,
                     std::weak_ptr<void> sink_alive);

  // OutlierMonitor
  void putResult(OutlierResult result) override;

  // Main dispatcher.
  const HostSharedPtr& host() const { return host_; }
  // The detections reported since the last call (Detection bits).
  uint32_t takeDetections() { return pending_.exchange(0, std::memory_order_acq_rel); }
  void resetCounter(Detection detection);
  uint32_t consecutive5xx() const { return consecutive_5xx_.load(std::memory_order_relaxed); }
  uint32_t consecutiveGatewayFailure() const {
    return consecutive_gateway_failure_.load(std::memory_order_relaxed);
  }
  uint32_t consecutiveLocalOriginFailure() const {
    return consecutive_local_origin_failure_.load(std::memory_order_relaxed);
  }

 private:
  // One more on `counter`; reports `detection` if that reached `threshold`.
  void count(std::atomic<uint32_t>& counter, uint32_t threshold, Detection detection);
  void report(Detection detection);

  const HostSharedPtr host_;
  const uint32_t consecutive_5xx_threshold_;
  const uint32_t consecutive_gateway_failure_threshold_;
  const uint32_t consecutive_local_origin_failure_threshold_;
  const bool split_local_origin_;
  event::Dispatcher& main_dispatcher_;
  Sink& sink_;
  const std::weak_ptr<void> sink_alive_;

  // Plain counts: relaxed order suffices, nothing else is published
  // through them.
  std::atomic<uint32_t> consecutive_5xx_{0};
  std::atomic<uint32_t> consecutive_gateway_failure_{0};
  std::atomic<uint32_t> consecutive_local_origin_failure_{0};
  std::atomic<uint32_t> pending_{0};
};

}  // namespace modgate::upstream
