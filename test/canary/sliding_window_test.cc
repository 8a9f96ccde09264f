#include "source/canary/sliding_window.h"

#include <thread>
#include <vector>

#include "gtest/gtest.h"

namespace modgate::canary {
namespace {

using std::chrono::microseconds;
using std::chrono::milliseconds;
using std::chrono::seconds;

// An arbitrary, deterministic point in monotonic time.
const MonotonicTime kStart = MonotonicTime() + std::chrono::hours(1000);

TEST(SlidingWindowTest, CountsAndErrorRatio) {
  SlidingWindow window(seconds(60));
  for (int i = 0; i < 90; ++i) window.record(Outcome::kSuccess, milliseconds(10), kStart);
  for (int i = 0; i < 6; ++i) window.record(Outcome::k5xx, milliseconds(10), kStart);
  for (int i = 0; i < 4; ++i) window.record(Outcome::kUpstreamFailure, milliseconds(10), kStart);
  WindowSnapshot snapshot = window.snapshot(kStart, seconds(10));
  EXPECT_EQ(snapshot.requests, 100u);
  EXPECT_EQ(snapshot.errors, 10u);
  EXPECT_EQ(snapshot.five_xx, 6u);
  EXPECT_EQ(snapshot.upstream_failures, 4u);
  EXPECT_DOUBLE_EQ(snapshot.error_ratio, 0.1);
  EXPECT_EQ(snapshot.mismatches, 0u);
}

TEST(SlidingWindowTest, EmptyWindowIsAllZero) {
  SlidingWindow window(seconds(60));
  WindowSnapshot snapshot = window.snapshot(kStart, seconds(10));
  EXPECT_EQ(snapshot.requests, 0u);
  EXPECT_EQ(snapshot.error_ratio, 0);
  EXPECT_EQ(snapshot.p99_ms, 0);
}

TEST(SlidingWindowTest, P99WithinABucketOfExact) {
  SlidingWindow window(seconds(60));
  // 1..1000 ms over ten seconds; exact p99 = 990 ms.
  for (int ms = 1; ms <= 1000; ++ms) {
    window.record(Outcome::kSuccess, microseconds(ms * 1000), kStart + milliseconds(ms * 10));
  }
  WindowSnapshot snapshot = window.snapshot(kStart + seconds(10), seconds(30));
  EXPECT_EQ(snapshot.requests, 1000u);
  EXPECT_NEAR(snapshot.p99_ms, 990, 990 * 0.25);
}

TEST(SlidingWindowTest, OldSecondsLeaveTheWindow) {
  SlidingWindow window(seconds(60));
  window.record(Outcome::k5xx, milliseconds(5), kStart);
  for (int i = 0; i < 10; ++i) {
    window.record(Outcome::kSuccess, milliseconds(5), kStart + seconds(20));
  }
  // From kStart + 20 s a 10 s window covers seconds 10..20: the 5xx is gone.
  WindowSnapshot recent = window.snapshot(kStart + seconds(20), seconds(10));
  EXPECT_EQ(recent.requests, 10u);
  EXPECT_EQ(recent.errors, 0u);
  // A 20 s window covers second 0 again.
  WindowSnapshot wide = window.snapshot(kStart + seconds(20), seconds(20));
  EXPECT_EQ(wide.requests, 11u);
  EXPECT_EQ(wide.errors, 1u);
}

TEST(SlidingWindowTest, WindowCoversTheCurrentPartialSecond) {
  SlidingWindow window(seconds(60));
  window.record(Outcome::kSuccess, milliseconds(5), kStart + milliseconds(900));
  EXPECT_EQ(window.snapshot(kStart + milliseconds(950), seconds(1)).requests, 1u);
  // One second back from 1.95 s still reaches second 0.
  EXPECT_EQ(window.snapshot(kStart + milliseconds(1950), seconds(1)).requests, 1u);
  EXPECT_EQ(window.snapshot(kStart + milliseconds(2950), seconds(1)).requests, 0u);
}

TEST(SlidingWindowTest, RecycledSlotsForgetTheirOldSecond) {
  SlidingWindow window(seconds(10));  // 11 slots.
  for (int i = 0; i < 5; ++i) window.record(Outcome::k5xx, milliseconds(5), kStart);
  // Same slot, eleven seconds later: the old counts must not leak in.
  window.record(Outcome::kSuccess, milliseconds(5), kStart + seconds(11));
  WindowSnapshot snapshot = window.snapshot(kStart + seconds(11), seconds(10));
  EXPECT_EQ(snapshot.requests, 1u);
  EXPECT_EQ(snapshot.errors, 0u);
  // Slots never written since kStart + 11 s read as zero, not as stale data.
  EXPECT_EQ(window.snapshot(kStart + seconds(30), seconds(10)).requests, 0u);
}

TEST(SlidingWindowTest, WindowIsCappedAtMaxWindow) {
  SlidingWindow window(seconds(5));
  EXPECT_EQ(window.maxWindow(), seconds(5));
  for (int s = 0; s <= 20; ++s)
    window.record(Outcome::kSuccess, milliseconds(1), kStart + seconds(s));
  // Asking for 100 s reads the 5 s + current second the ring holds.
  EXPECT_EQ(window.snapshot(kStart + seconds(20), seconds(100)).requests, 6u);
}

TEST(SlidingWindowTest, ShadowComparisonsAndMismatches) {
  SlidingWindow window(seconds(60));
  window.recordShadow(ShadowResult::kMatch, kStart);
  window.recordShadow(ShadowResult::kMatch, kStart);
  window.recordMismatch(kStart + seconds(1));
  WindowSnapshot snapshot = window.snapshot(kStart + seconds(1), seconds(10));
  EXPECT_EQ(snapshot.shadow_comparisons, 3u);
  EXPECT_EQ(snapshot.mismatches, 1u);
  // Comparisons are not requests.
  EXPECT_EQ(snapshot.requests, 0u);
}

TEST(SlidingWindowTest, ConcurrentRecordsAreExact) {
  SlidingWindow window(seconds(60));
  constexpr int kThreads = 4;
  constexpr int kPerThread = 100000;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&window, t] {
      for (int i = 0; i < kPerThread; ++i) {
        // Every thread sweeps across 20 seconds, so slots are claimed for new
        // seconds while other threads write to them.
        MonotonicTime now = kStart + milliseconds(i / 5);
        Outcome outcome = i % 10 == 0   ? Outcome::k5xx
                          : i % 25 == 1 ? Outcome::kUpstreamFailure
                                        : Outcome::kSuccess;
        window.record(outcome, microseconds(1000 + (i + t) % 5000), now);
        if (i % 100 == 0) window.recordMismatch(now);
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  WindowSnapshot snapshot = window.snapshot(kStart + seconds(20), seconds(30));
  EXPECT_EQ(snapshot.requests, uint64_t{kThreads} * kPerThread);
  EXPECT_EQ(snapshot.five_xx, uint64_t{kThreads} * (kPerThread / 10));
  EXPECT_EQ(snapshot.upstream_failures, uint64_t{kThreads} * (kPerThread / 25));
  EXPECT_EQ(snapshot.mismatches, uint64_t{kThreads} * (kPerThread / 100));
}

}  // namespace
}  // namespace modgate::canary

namespace modgate::canary {
namespace {

// A sidecar reports the whole seconds it has not reported yet; the control
// plane adds the reports of many sidecars into one ring: the fleet's window
// equals what one window recording every request would hold.
TEST(SlidingWindowCountsTest, ReportedCountsAddUpToTheSameSnapshot) {
  const MonotonicTime start = MonotonicTime() + std::chrono::hours(2000);
  SlidingWindow sidecar_a(std::chrono::seconds(60));
  SlidingWindow sidecar_b(std::chrono::seconds(60));
  SlidingWindow everything(std::chrono::seconds(60));
  for (int s = 0; s < 5; ++s) {
    const MonotonicTime at = start + std::chrono::seconds(s);
    for (int i = 0; i < 10; ++i) {
      sidecar_a.record(Outcome::kSuccess, std::chrono::milliseconds(5), at);
      everything.record(Outcome::kSuccess, std::chrono::milliseconds(5), at);
    }
    sidecar_b.record(Outcome::k5xx, std::chrono::milliseconds(200), at);
    everything.record(Outcome::k5xx, std::chrono::milliseconds(200), at);
    sidecar_b.recordShadow(ShadowResult::kMismatch, at);
    everything.recordShadow(ShadowResult::kMismatch, at);
  }
  const int64_t first = SlidingWindow::secondOf(start);
  const int64_t last = first + 4;
  OutcomeCounts a = sidecar_a.countsOf(first, last);
  OutcomeCounts b = sidecar_b.countsOf(first, last);
  EXPECT_EQ(a.successes, 50u);
  EXPECT_EQ(b.five_xx, 5u);
  EXPECT_EQ(b.shadow_mismatches, 5u);

  SlidingWindow fleet(std::chrono::seconds(60));
  const MonotonicTime received = start + std::chrono::seconds(5);
  fleet.add(a, received);
  fleet.add(b, received);
  WindowSnapshot expected = everything.snapshot(received, std::chrono::seconds(10));
  WindowSnapshot got = fleet.snapshot(received, std::chrono::seconds(10));
  EXPECT_EQ(got.requests, expected.requests);
  EXPECT_EQ(got.five_xx, expected.five_xx);
  EXPECT_DOUBLE_EQ(got.error_ratio, expected.error_ratio);
  EXPECT_DOUBLE_EQ(got.p99_ms, expected.p99_ms);
  EXPECT_EQ(got.mismatches, 5u);
  EXPECT_EQ(got.shadow_comparisons, 5u);

  // Seconds the ring no longer holds are not counted twice.
  EXPECT_EQ(sidecar_a.countsOf(first - 1000, last).successes, 50u);
  EXPECT_TRUE(sidecar_a.countsOf(last + 1, last + 3).empty());
}

}  // namespace
}  // namespace modgate::canary
