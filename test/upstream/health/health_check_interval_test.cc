#include "source/upstream/health/health_check_interval.h"

#include <algorithm>

#include "gtest/gtest.h"

namespace modgate::upstream {
namespace {

using std::chrono::milliseconds;

TEST(ExpectedStatusTest, DefaultIsOnly200) {
  EXPECT_TRUE(isExpectedStatus({}, 200));
  EXPECT_FALSE(isExpectedStatus({}, 201));
  EXPECT_FALSE(isExpectedStatus({}, 204));
  EXPECT_FALSE(isExpectedStatus({}, 500));
}

TEST(ExpectedStatusTest, RangesAreHalfOpen) {
  std::vector<StatusRange> ranges = {{200, 300}, {404, 405}};
  EXPECT_TRUE(isExpectedStatus(ranges, 200));
  EXPECT_TRUE(isExpectedStatus(ranges, 299));
  EXPECT_FALSE(isExpectedStatus(ranges, 300));
  EXPECT_FALSE(isExpectedStatus(ranges, 199));
  EXPECT_TRUE(isExpectedStatus(ranges, 404));
  EXPECT_FALSE(isExpectedStatus(ranges, 405));
  EXPECT_FALSE(isExpectedStatus(ranges, 403));
}

TEST(ExpectedStatusTest, UnsetEndIsTheSingleCode) {
  EXPECT_TRUE(isExpectedStatus({{503, 0}}, 503));
  EXPECT_FALSE(isExpectedStatus({{503, 0}}, 504));
  EXPECT_FALSE(isExpectedStatus({{503, 0}}, 200));
}

HealthCheckOptions intervals() {
  HealthCheckOptions options;
  options.interval = milliseconds(1000);
  options.unhealthy_interval = milliseconds(3000);
  options.healthy_edge_interval = milliseconds(200);
  options.unhealthy_edge_interval = milliseconds(500);
  options.no_traffic_interval = milliseconds(60000);
  return options;
}

TEST(NextProbeDelayTest, BaseFollowsStateAndEdges) {
  HealthCheckOptions options = intervals();
  Random random(1);
  EXPECT_EQ(nextProbeDelay(options, {true, false, true}, random), milliseconds(1000));
  EXPECT_EQ(nextProbeDelay(options, {false, false, true}, random), milliseconds(3000));
  EXPECT_EQ(nextProbeDelay(options, {true, true, true}, random), milliseconds(200));
  EXPECT_EQ(nextProbeDelay(options, {false, true, true}, random), milliseconds(500));
  // No traffic yet: the slow interval whatever the state.
  EXPECT_EQ(nextProbeDelay(options, {true, false, false}, random), milliseconds(60000));
  EXPECT_EQ(nextProbeDelay(options, {false, true, false}, random), milliseconds(60000));
}

TEST(NextProbeDelayTest, UnsetIntervalsFallBack) {
  HealthCheckOptions options;
  options.interval = milliseconds(1000);
  Random random(1);
  EXPECT_EQ(nextProbeDelay(options, {false, false, true}, random), milliseconds(1000));
  EXPECT_EQ(nextProbeDelay(options, {true, true, true}, random), milliseconds(1000));
  EXPECT_EQ(nextProbeDelay(options, {false, true, true}, random), milliseconds(1000));
  // unhealthy_edge_interval defaults to unhealthy_interval, not interval.
  options.unhealthy_interval = milliseconds(4000);
  EXPECT_EQ(nextProbeDelay(options, {false, true, true}, random), milliseconds(4000));
}

TEST(NextProbeDelayTest, ZeroIntervalStillWaits) {
  HealthCheckOptions options;
  options.interval = milliseconds(0);
  Random random(1);
  EXPECT_EQ(nextProbeDelay(options, {true, false, true}, random), milliseconds(1));
}

TEST(NextProbeDelayTest, JitterStaysWithinBoundsAndCoversThem) {
  HealthCheckOptions options;
  options.interval = milliseconds(1000);
  options.interval_jitter = milliseconds(100);
  options.interval_jitter_percent = 10;  // up to 100 ms more
  Random random(42);
  milliseconds low(1'000'000), high(0);
  for (int i = 0; i < 20000; ++i) {
    milliseconds delay = nextProbeDelay(options, {true, false, true}, random);
    low = std::min(low, delay);
    high = std::max(high, delay);
  }
  EXPECT_GE(low, milliseconds(1000));
  EXPECT_LT(low, milliseconds(1010));
  EXPECT_LE(high, milliseconds(1198));  // [0, 100) + [0, 100)
  EXPECT_GT(high, milliseconds(1185));
}

TEST(NextProbeDelayTest, PercentJitterScalesWithTheBase) {
  HealthCheckOptions options;
  options.interval = milliseconds(100);
  options.unhealthy_interval = milliseconds(1000);
  options.interval_jitter_percent = 50;
  Random random(7);
  for (int i = 0; i < 5000; ++i) {
    milliseconds healthy = nextProbeDelay(options, {true, false, true}, random);
    EXPECT_GE(healthy, milliseconds(100));
    EXPECT_LT(healthy, milliseconds(150));
    milliseconds unhealthy = nextProbeDelay(options, {false, false, true}, random);
    EXPECT_GE(unhealthy, milliseconds(1000));
    EXPECT_LT(unhealthy, milliseconds(1500));
  }
}

TEST(InitialProbeDelayTest, WithinInitialJitter) {
  HealthCheckOptions options;
  Random random(3);
  EXPECT_EQ(initialProbeDelay(options, random), milliseconds(0));
  options.initial_jitter = milliseconds(50);
  milliseconds high(0);
  for (int i = 0; i < 5000; ++i) {
    milliseconds delay = initialProbeDelay(options, random);
    EXPECT_GE(delay, milliseconds(0));
    EXPECT_LT(delay, milliseconds(50));
    high = std::max(high, delay);
  }
  EXPECT_EQ(high, milliseconds(49));
}

}  // namespace
}  // namespace modgate::upstream
