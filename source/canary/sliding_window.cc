#include "source/canary/sliding_window.h"

#include <algorithm>

namespace modgate::canary {
namespace {

uint32_t tagOf(int64_t second) { return static_cast<uint32_t>(second); }

void increment(std::atomic<uint64_t>& cell, uint32_t tag, uint64_t count = 1) {
  if (count == 0) return;
  // Saturates rather than carry into the tag.
  count = std::min<uint64_t>(count, 0xffffffffu);
  uint64_t current = cell.load(std::memory_order_relaxed);
  for (;;) {
    uint64_t next = static_cast<uint32_t>(current >> 32) == tag
                        ? (static_cast<uint64_t>(tag) << 32) |
                              std::min<uint64_t>((current & 0xffffffffu) + count, 0xffffffffu)
                        : (static_cast<uint64_t>(tag) << 32) | count;
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

void SlidingWindow::add(const OutcomeCounts& counts, MonotonicTime now) {
  int64_t second = secondOf(now);
  uint32_t tag = tagOf(second);
  Slot& slot = slotFor(second);
  increment(slot.successes, tag, counts.successes);
  increment(slot.five_xx, tag, counts.five_xx);
  increment(slot.upstream_failures, tag, counts.upstream_failures);
  increment(slot.shadow_matches, tag, counts.shadow_matches);
  increment(slot.shadow_mismatches, tag, counts.shadow_mismatches);
  for (size_t i = 0; i < LatencyBuckets::kCount; ++i) {
    increment(slot.latency[i], tag, counts.latency[i]);
  }
}

OutcomeCounts SlidingWindow::countsOf(int64_t first, int64_t last) const {
  first = std::max(first, last - (static_cast<int64_t>(slot_count_) - 1));
  OutcomeCounts out;
  for (int64_t second = first; second <= last; ++second) {
    uint32_t tag = tagOf(second);
    const Slot& slot = slotFor(second);
    out.successes += read(slot.successes, tag);
    out.five_xx += read(slot.five_xx, tag);
    out.upstream_failures += read(slot.upstream_failures, tag);
    out.shadow_matches += read(slot.shadow_matches, tag);
    out.shadow_mismatches += read(slot.shadow_mismatches, tag);
    for (size_t i = 0; i < LatencyBuckets::kCount; ++i) {
      out.latency[i] += read(slot.latency[i], tag);
    }
  }
  return out;
}

WindowSnapshot SlidingWindow::snapshot(MonotonicTime now, std::chrono::seconds window) const {
  int64_t last = secondOf(now);
  int64_t span = std::clamp<int64_t>(window.count(), 1, static_cast<int64_t>(slot_count_) - 1);
  // `span` whole seconds back from the current, partial one: the window
  // covers at least `window` and at most one second more.
  return countsOf(last - span, last).summary();
}

}  // namespace modgate::canary
