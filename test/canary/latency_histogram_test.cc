#include "source/canary/latency_histogram.h"

#include "gtest/gtest.h"

namespace modgate::canary {
namespace {

using std::chrono::microseconds;

TEST(LatencyBucketsTest, BucketsTileTheRange) {
  EXPECT_EQ(LatencyBuckets::lowerBoundUs(0), 0u);
  for (size_t i = 0; i + 1 < LatencyBuckets::kCount; ++i) {
    ASSERT_EQ(LatencyBuckets::upperBoundUs(i), LatencyBuckets::lowerBoundUs(i + 1)) << i;
    ASSERT_LT(LatencyBuckets::lowerBoundUs(i), LatencyBuckets::upperBoundUs(i)) << i;
  }
  EXPECT_EQ(LatencyBuckets::upperBoundUs(LatencyBuckets::kCount - 1), uint64_t{1} << 27);
}

TEST(LatencyBucketsTest, EveryValueLandsInItsBucket) {
  for (uint64_t us = 0; us < (uint64_t{1} << 27); us = us < 300 ? us + 1 : us + us / 37) {
    size_t index = LatencyBuckets::indexFor(microseconds(us));
    ASSERT_LE(LatencyBuckets::lowerBoundUs(index), us);
    ASSERT_LT(us, LatencyBuckets::upperBoundUs(index));
  }
  EXPECT_EQ(LatencyBuckets::indexFor(microseconds(-5)), 0u);
  EXPECT_EQ(LatencyBuckets::indexFor(microseconds(int64_t{1} << 40)), LatencyBuckets::kCount - 1);
}

TEST(LatencyBucketsTest, BucketsAreAtMostAQuarterWide) {
  for (size_t i = 4; i < LatencyBuckets::kCount; ++i) {
    double lower = static_cast<double>(LatencyBuckets::lowerBoundUs(i));
    double upper = static_cast<double>(LatencyBuckets::upperBoundUs(i));
    EXPECT_LE((upper - lower) / lower, 0.25) << i;
  }
}

TEST(LatencyBucketsTest, QuantileWithinOneBucketOfExact) {
  LatencyBuckets::Counts counts{};
  // 1..1000 ms, exact p99 (nearest rank) = 990 ms.
  for (int ms = 1; ms <= 1000; ++ms) {
    ++counts[LatencyBuckets::indexFor(microseconds(ms * 1000))];
  }
  double p99 = LatencyBuckets::quantileMs(counts, 0.99);
  EXPECT_NEAR(p99, 990, 990 * 0.25);
  double p50 = LatencyBuckets::quantileMs(counts, 0.5);
  EXPECT_NEAR(p50, 500, 500 * 0.25);
}

TEST(LatencyBucketsTest, QuantileOfIdenticalSamplesStaysInTheirBucket) {
  LatencyBuckets::Counts counts{};
  size_t index = LatencyBuckets::indexFor(microseconds(42000));
  counts[index] = 1000;
  double p99 = LatencyBuckets::quantileMs(counts, 0.99);
  EXPECT_GE(p99 * 1000, LatencyBuckets::lowerBoundUs(index));
  EXPECT_LE(p99 * 1000, LatencyBuckets::upperBoundUs(index));
}

TEST(LatencyBucketsTest, TailDominatesP99) {
  LatencyBuckets::Counts counts{};
  // 98 fast, 2 slow: the 99th of 100 is slow.
  counts[LatencyBuckets::indexFor(microseconds(10000))] = 98;
  counts[LatencyBuckets::indexFor(microseconds(2000000))] = 2;
  EXPECT_NEAR(LatencyBuckets::quantileMs(counts, 0.99), 2000, 2000 * 0.25);
  // 99 fast, 1 slow: the 99th is still fast.
  counts[LatencyBuckets::indexFor(microseconds(10000))] = 99;
  counts[LatencyBuckets::indexFor(microseconds(2000000))] = 1;
  EXPECT_NEAR(LatencyBuckets::quantileMs(counts, 0.99), 10, 10 * 0.25);
}

TEST(LatencyBucketsTest, EmptyIsZero) {
  LatencyBuckets::Counts counts{};
  EXPECT_EQ(LatencyBuckets::quantileMs(counts, 0.99), 0);
}

}  // namespace
}  // namespace modgate::canary
