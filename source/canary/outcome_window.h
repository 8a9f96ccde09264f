#pragma once

#include <chrono>
#include <cstdint>

#include "source/canary/time.h"

namespace modgate::canary {

// How one request to a cluster ended, as far as the rollout gates care.
enum class Outcome {
  kSuccess,
  // The cluster answered with a 5xx.
  k5xx,
  // No usable answer: connect failure, reset, timeout.
  kUpstreamFailure,
};

// How one shadow comparison ended (see ShadowComparator).
enum class ShadowResult {
  kMatch,
  kMismatch,
};

// One cluster's outcomes over a window of time, as gates read them.
struct WindowSnapshot {
  uint64_t requests = 0;
  // 5xx plus upstream failures.
  uint64_t errors = 0;
  uint64_t five_xx = 0;
  uint64_t upstream_failures = 0;
  // errors / requests, 0 without requests.
  double error_ratio = 0;
  // Estimated from a log-bucketed histogram, so within one bucket's width
  // (at most 25%) of the exact value; 0 without requests.
  double p99_ms = 0;
  // Shadow comparisons made, and how many of them found different bytes.
  uint64_t shadow_comparisons = 0;
  uint64_t mismatches = 0;
};

// The request path's handle on one cluster's outcomes. Workers call it for
// every request, concurrently and without locks; `now` is the caller's clock
// so that tests control time.
class OutcomeRecorder {
 public:
  virtual ~OutcomeRecorder() = default;

  virtual void record(Outcome outcome, std::chrono::microseconds latency, MonotonicTime now) = 0;
  virtual void recordShadow(ShadowResult result, MonotonicTime now) = 0;
  void recordMismatch(MonotonicTime now) { recordShadow(ShadowResult::kMismatch, now); }
};

// What the rollout reads on the main thread when it evaluates gates.
class OutcomeWindow {
 public:
  virtual ~OutcomeWindow() = default;

  // The outcomes of the last `window` as of `now`, in whole seconds: the
  // current, partial second and the `window` full seconds before it.
  virtual WindowSnapshot snapshot(MonotonicTime now, std::chrono::seconds window) const = 0;
};

}  // namespace modgate::canary
