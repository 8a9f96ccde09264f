#pragma once

#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>

namespace modgate::canary {

// Fixed logarithmic latency buckets shared by every histogram, so histograms
// from different seconds add up bucket by bucket. Values below 4 us get a
// bucket each; above, every power of two is cut into 4 equal sub-buckets, so
// a bucket is at most 25% wider than its lower bound. The last bucket ends at
// 2^27 us (~134 s) and also takes everything slower.
class LatencyBuckets {
 public:
  static constexpr size_t kCount = 104;
  using Counts = std::array<uint64_t, kCount>;

  static size_t indexFor(std::chrono::microseconds latency);
  // [lowerBoundUs, upperBoundUs) is the range of bucket `index`.
  static uint64_t lowerBoundUs(size_t index);
  static uint64_t upperBoundUs(size_t index);

  // The `quantile` (0 < q <= 1) of the recorded latencies in milliseconds,
  // interpolated linearly within the bucket that holds it; 0 when empty.
  static double quantileMs(const Counts& counts, double quantile);
};

}  // namespace modgate::canary
