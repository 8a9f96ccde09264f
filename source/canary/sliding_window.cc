#include "source/canary/sliding_window.h"

#include <algorithm>

namespace modgate::canary {
namespace {

uint32_t tagOf(int64_t second) { return static_cast<uint32_t>(second); }

void increment(std::atomic<uint64_t>& cell, uint32_t tag) {
  uint64_t current = cell.load(std::memory_order_relaxed);
  for (;;) {
    uint64_t next = static_cast<uint32_t>(current >> 32) == tag
                        ? current + 1
                        : (static_cast<uint64_t>(tag) << 32) | 1;
    // Relaxed: the counters publish nothing else, and the main thread reads
    // them as an approximate, racy snapshot anyway.
    if (cell.compare_exchange_weak(current, next, std::memory_order_relaxed)) return;
  }
}

uint64_t read(const std::atomic<uint64_t>& cell, uint32_t tag) {
  uint64_t value = cell.load(std::memory_order_relaxed);
  return static_cast<uint32_t>(value >> 32) == tag ? (value & 0xffffffffu) : 0;
}

}  // namespace

SlidingWindow::SlidingWindow(std::chrono::seconds max_window)
    : slot_count_(static_cast<size_t>(std::max<int64_t>(max_window.count(), 1)) + 1),
      slots_(new Slot[slot_count_]) {}

int64_t SlidingWindow::secondOf(MonotonicTime now) {
  return std::chrono::duration_cast<std::chrono::seconds>(now.time_since_epoch()).count();
}

SlidingWindow::Slot& SlidingWindow::slotFor(int64_t second) const {
  // Seconds before the clock's epoch would index negatively: wrap them too.
  int64_t count = static_cast<int64_t>(slot_count_);
  return slots_[static_cast<size_t>(((second % count) + count) % count)];
}

void SlidingWindow::record(Outcome outcome, std::chrono::microseconds latency, MonotonicTime now) {
  int64_t second = secondOf(now);
  uint32_t tag = tagOf(second);
  Slot& slot = slotFor(second);
  switch (outcome) {
    case Outcome::kSuccess:
      increment(slot.successes, tag);
      break;
    case Outcome::k5xx:
      increment(slot.five_xx, tag);
      break;
    case Outcome::kUpstreamFailure:
      increment(slot.upstream_failures, tag);
      break;
  }
  increment(slot.latency[LatencyBuckets::indexFor(latency)], tag);
}

void SlidingWindow::recordShadow(ShadowResult result, MonotonicTime now) {
  int64_t second = secondOf(now);
  Slot& slot = slotFor(second);
  increment(result == ShadowResult::kMatch ? slot.shadow_matches : slot.shadow_mismatches,
            tagOf(second));
}

WindowSnapshot SlidingWindow::snapshot(MonotonicTime now, std::chrono::seconds window) const {
  int64_t last = secondOf(now);
  int64_t span = std::clamp<int64_t>(window.count(), 1, static_cast<int64_t>(slot_count_) - 1);
  WindowSnapshot out;
  uint64_t successes = 0;
  uint64_t matches = 0;
  LatencyBuckets::Counts latency{};
  // `span` whole seconds back from the current, partial one: the window
  // covers at least `window` and at most one second more.
  for (int64_t second = last - span; second <= last; ++second) {
    uint32_t tag = tagOf(second);
    const Slot& slot = slotFor(second);
    successes += read(slot.successes, tag);
    out.five_xx += read(slot.five_xx, tag);
    out.upstream_failures += read(slot.upstream_failures, tag);
    matches += read(slot.shadow_matches, tag);
    out.mismatches += read(slot.shadow_mismatches, tag);
    for (size_t i = 0; i < LatencyBuckets::kCount; ++i) latency[i] += read(slot.latency[i], tag);
  }
  out.errors = out.five_xx + out.upstream_failures;
  out.requests = successes + out.errors;
  out.error_ratio =
      out.requests == 0 ? 0 : static_cast<double>(out.errors) / static_cast<double>(out.requests);
  out.p99_ms = LatencyBuckets::quantileMs(latency, 0.99);
  out.shadow_comparisons = matches + out.mismatches;
  return out;
}

}  // namespace modgate::canary
