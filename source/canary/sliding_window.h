#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>

#include "source/canary/latency_histogram.h"
#include "source/canary/outcome_counts.h"
#include "source/canary/outcome_window.h"

namespace modgate::canary {

// One cluster's request outcomes in a ring of one-second slots, recorded
// lock-free by any number of workers and read by the main thread.
//
// Every counter is a single 64-bit atomic whose high half tags the second
// it counts and whose low half is the count. A writer whose second differs
// from the tag replaces the whole word with (its second, 1) in the same CAS
// that would otherwise increment it, so a slot is recycled for a new second
// without any reset step that could race with writers, and totals are exact
// under concurrency. A reader takes a counter only when its tag is the second
// it expects, so stale slots read as zero without anyone clearing them.
//
// The tag is the second modulo 2^32 (136 years) and the count is limited to
// 2^32 - 1 per second per counter, far above any one proxy's request rate.
// A worker whose `now` lags by a full ring (max_window + 1 seconds) could
// recycle a slot backwards; workers pass their loop's current time, which
// never lags that much.
//
// The same ring serves two more readers: a sidecar reads the counts of the
// whole seconds it has not reported yet (countsOf), and the control plane
// adds each sidecar's report into a ring of its own (add), so the fleet's
// gates read the same kind of window as a single modgate's.
class SlidingWindow : public OutcomeRecorder, public OutcomeWindow {
 public:
  // Snapshots can cover up to `max_window`.
  explicit SlidingWindow(std::chrono::seconds max_window);

  // OutcomeRecorder
  void record(Outcome outcome, std::chrono::microseconds latency, MonotonicTime now) override;
  void recordShadow(ShadowResult result, MonotonicTime now) override;
  // Adds counts made elsewhere (another process's interval) to `now`'s
  // second.
  void add(const OutcomeCounts& counts, MonotonicTime now);

  // OutcomeWindow. A window longer than max_window is cut to max_window.
  WindowSnapshot snapshot(MonotonicTime now, std::chrono::seconds window) const override;

  std::chrono::seconds maxWindow() const { return std::chrono::seconds(slot_count_ - 1); }

  // The counts of the whole seconds first..last (as secondOf numbers them),
  // cut to the seconds the ring still holds as of `last`.
  OutcomeCounts countsOf(int64_t first, int64_t last) const;

  // The second `now` falls in.
  static int64_t secondOf(MonotonicTime now);

 private:
  struct Slot {
    std::atomic<uint64_t> successes{0};
    std::atomic<uint64_t> five_xx{0};
    std::atomic<uint64_t> upstream_failures{0};
    std::atomic<uint64_t> shadow_matches{0};
    std::atomic<uint64_t> shadow_mismatches{0};
    std::atomic<uint64_t> latency[LatencyBuckets::kCount] = {};
  };

  Slot& slotFor(int64_t second) const;

  // One slot more than the longest window: the current second is partial.
  const size_t slot_count_;
  const std::unique_ptr<Slot[]> slots_;
};

}  // namespace modgate::canary
