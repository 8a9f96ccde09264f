#include "source/canary/latency_histogram.h"

#include <bit>
#include <cmath>

namespace modgate::canary {
namespace {

constexpr uint64_t kLinearLimit = 4;
// Sub-buckets per power of two.
constexpr int kSubBits = 2;
constexpr int kMaxExponent = 26;

}  // namespace

size_t LatencyBuckets::indexFor(std::chrono::microseconds latency) {
  if (latency.count() <= 0) return 0;
  uint64_t us = static_cast<uint64_t>(latency.count());
  if (us < kLinearLimit) return us;
  int exponent = 63 - std::countl_zero(us);
  if (exponent > kMaxExponent) return kCount - 1;
  uint64_t sub = (us >> (exponent - kSubBits)) & ((1u << kSubBits) - 1);
  return kLinearLimit + static_cast<size_t>(exponent - kSubBits) * (1u << kSubBits) + sub;
}

uint64_t LatencyBuckets::lowerBoundUs(size_t index) {
  if (index < kLinearLimit) return index;
  size_t offset = index - kLinearLimit;
  int exponent = static_cast<int>(offset >> kSubBits) + kSubBits;
  uint64_t sub = offset & ((1u << kSubBits) - 1);
  return ((1u << kSubBits) + sub) << (exponent - kSubBits);
}

uint64_t LatencyBuckets::upperBoundUs(size_t index) {
  if (index < kLinearLimit) return index + 1;
  size_t offset = index - kLinearLimit;
  int exponent = static_cast<int>(offset >> kSubBits) + kSubBits;
  uint64_t sub = offset & ((1u << kSubBits) - 1);
  return ((1u << kSubBits) + sub + 1) << (exponent - kSubBits);
}

double LatencyBuckets::quantileMs(const Counts& counts, double quantile) {
  uint64_t total = 0;
  for (uint64_t count : counts) total += count;
  if (total == 0) return 0;
  // The rank of the quantile sample, 1-based, as the nearest-rank method
  // defines it: p99 of 100 samples is the 99th.
  uint64_t rank = static_cast<uint64_t>(std::ceil(quantile * static_cast<double>(total)));
  if (rank < 1) rank = 1;
  if (rank > total) rank = total;
  uint64_t below = 0;
  for (size_t i = 0; i < kCount; ++i) {
    if (counts[i] == 0) continue;
    if (below + counts[i] >= rank) {
      // Samples are assumed spread evenly over the bucket: the k-th of n sits
      // at the k/n point of its range.
      double fraction = static_cast<double>(rank - below) / static_cast<double>(counts[i]);
      double lower = static_cast<double>(lowerBoundUs(i));
      double upper = static_cast<double>(upperBoundUs(i));
      return (lower + fraction * (upper - lower)) / 1000.0;
    }
    below += counts[i];
  }
  return static_cast<double>(upperBoundUs(kCount - 1)) / 1000.0;
}

}  // namespace modgate::canary
