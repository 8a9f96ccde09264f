#include "source/upstream/load_balancer/priority_load.h"

#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "test/upstream/load_balancer/test_hosts.h"

namespace modgate::upstream {
namespace {

using ::testing::ElementsAre;
using testing::makeHost;
using testing::makeLevel;
using testing::makeSnapshot;

// Levels of 100 hosts each, so "N% healthy" is N healthy hosts.
PriorityLoad loadFor(const std::vector<size_t>& healthy_percent,
                     const HostSetOptions& options = {}) {
  std::vector<PriorityLevel> levels;
  for (size_t i = 0; i < healthy_percent.size(); ++i) {
    levels.push_back(makeLevel("p" + std::to_string(i) + "-", 100, healthy_percent[i]));
  }
  return computePriorityLoad(*makeSnapshot(std::move(levels), options));
}

// Envoy's "priority levels" table (arch overview, load balancing). With the
// default overprovisioning factor 1.4 a level is fully healthy down to 72%.
TEST(PriorityLoadTest, EnvoyTwoLevelExamples) {
  EXPECT_THAT(loadFor({100, 100}).percent, ElementsAre(100, 0));
  EXPECT_THAT(loadFor({72, 72}).percent, ElementsAre(100, 0));
  EXPECT_THAT(loadFor({71, 71}).percent, ElementsAre(99, 1));
  EXPECT_THAT(loadFor({50, 50}).percent, ElementsAre(70, 30));
  EXPECT_THAT(loadFor({25, 100}).percent, ElementsAre(35, 65));
  EXPECT_THAT(loadFor({0, 100}).percent, ElementsAre(0, 100));
}

TEST(PriorityLoadTest, EnvoyThreeLevelExamples) {
  EXPECT_THAT(loadFor({100, 100, 100}).percent, ElementsAre(100, 0, 0));
  EXPECT_THAT(loadFor({72, 72, 100}).percent, ElementsAre(100, 0, 0));
  EXPECT_THAT(loadFor({71, 71, 100}).percent, ElementsAre(99, 1, 0));
  EXPECT_THAT(loadFor({50, 50, 100}).percent, ElementsAre(70, 30, 0));
  EXPECT_THAT(loadFor({25, 100, 100}).percent, ElementsAre(35, 65, 0));
  EXPECT_THAT(loadFor({25, 25, 100}).percent, ElementsAre(35, 35, 30));
}

// When the levels' healths sum to less than 100 they are scaled up to 100.
// These levels would all be in panic, which splits by host count instead
// (below); panic is off here to see the normalization alone.
TEST(PriorityLoadTest, NormalizesWhenTotalHealthIsBelow100) {
  HostSetOptions no_panic;
  no_panic.healthy_panic_threshold = 0;
  // Healths 35 + 35 = 70: each level gets 35 * 100 / 70.
  EXPECT_THAT(loadFor({25, 25}, no_panic).percent, ElementsAre(50, 50));
  // Healths 35, 35, 28 (sum 98) scale to 35.7, 35.7, 28.6. Envoy's docs round
  // that to 36/36/28; its code, like this, truncates each level and gives the
  // leftover to the first healthy level.
  EXPECT_THAT(loadFor({25, 25, 20}, no_panic).percent, ElementsAre(37, 35, 28));
  // Healths 14 and 7 (sum 21): 66 and 33, plus the leftover 1 to P0.
  EXPECT_THAT(loadFor({10, 5}, no_panic).percent, ElementsAre(67, 33));
}

TEST(PriorityLoadTest, EmptyLevelsTakeNoLoad) {
  std::vector<PriorityLevel> levels;
  levels.push_back(PriorityLevel{});
  levels.push_back(makeLevel("p1-", 4, 4));
  EXPECT_THAT(computePriorityLoad(*makeSnapshot(std::move(levels))).percent, ElementsAre(0, 100));
}

// Envoy's "panic threshold" table: panic per level only when the normalized
// total health is below 100.
TEST(PriorityLoadTest, EnvoyPanicExamples) {
  PriorityLoad load = loadFor({72, 72});
  EXPECT_THAT(load.panic, ElementsAre(false, false));

  load = loadFor({50, 60});
  EXPECT_THAT(load.percent, ElementsAre(70, 30));
  EXPECT_THAT(load.panic, ElementsAre(false, false));

  // P0 is 25% healthy, below the threshold, but P1 makes up the total: no
  // panic anywhere.
  load = loadFor({25, 100});
  EXPECT_THAT(load.percent, ElementsAre(35, 65));
  EXPECT_THAT(load.panic, ElementsAre(false, false));

  // Healths 7 + 91 = 98 < 100: P0 (5% healthy) panics, P1 (65%) does not.
  // Envoy's docs say 7/93; the code's truncation gives the leftover to P0.
  load = loadFor({5, 65});
  EXPECT_THAT(load.percent, ElementsAre(8, 92));
  EXPECT_THAT(load.panic, ElementsAre(true, false));
}

// Every level in panic: load follows host counts, not health.
TEST(PriorityLoadTest, TotalPanicSplitsByHostCount) {
  PriorityLoad load = loadFor({25, 25});
  EXPECT_THAT(load.percent, ElementsAre(50, 50));
  EXPECT_THAT(load.panic, ElementsAre(true, true));

  std::vector<PriorityLevel> levels;
  levels.push_back(makeLevel("p0-", 1, 0));
  levels.push_back(makeLevel("p1-", 2, 0));
  load = computePriorityLoad(*makeSnapshot(std::move(levels)));
  // 100 * 1 / 3 = 33 and 100 * 2 / 3 = 66; the leftover 1 goes to P0.
  EXPECT_THAT(load.percent, ElementsAre(34, 66));
  EXPECT_THAT(load.panic, ElementsAre(true, true));
}

TEST(PriorityLoadTest, NothingHealthyWithPanicDisabledSendsAllToP0WithoutPanic) {
  HostSetOptions options;
  options.healthy_panic_threshold = 0;
  const PriorityLoad load = loadFor({0, 0}, options);
  EXPECT_THAT(load.percent, ElementsAre(100, 0));
  EXPECT_THAT(load.panic, ElementsAre(false, false));
}

TEST(PriorityLoadTest, PanicThresholdIsConfigurable) {
  HostSetOptions options;
  options.healthy_panic_threshold = 10;
  // Healths 28 + 28: normalized, but 20% healthy is above a 10% threshold.
  PriorityLoad load = loadFor({20, 20}, options);
  EXPECT_THAT(load.percent, ElementsAre(50, 50));
  EXPECT_THAT(load.panic, ElementsAre(false, false));
}

TEST(PriorityLoadTest, OverprovisioningFactorIsConfigurable) {
  HostSetOptions options;
  options.overprovisioning_factor = 100;
  EXPECT_THAT(loadFor({72, 100}, options).percent, ElementsAre(72, 28));
  options.overprovisioning_factor = 200;
  EXPECT_THAT(loadFor({50, 100}, options).percent, ElementsAre(100, 0));
}

TEST(PriorityLoadTest, WeightedPriorityHealthCountsWeights) {
  // P0: a healthy host of weight 1 and an unhealthy one of weight 3.
  std::vector<HostSharedPtr> p0 = {makeHost("light", 1), makeHost("heavy", 3)};
  std::vector<PriorityLevel> levels;
  levels.push_back(makeLevel(p0, 1));
  levels.push_back(makeLevel("p1-", 2, 2));

  // By count P0 is 50% healthy: health 70.
  EXPECT_THAT(computePriorityLoad(*makeSnapshot(levels)).percent, ElementsAre(70, 30));

  // By weight it is 25% healthy: health 35.
  HostSetOptions options;
  options.weighted_priority_health = true;
  EXPECT_THAT(computePriorityLoad(*makeSnapshot(levels, options)).percent, ElementsAre(35, 65));
}

TEST(PriorityLoadTest, NoLevels) {
  const PriorityLoad load = computePriorityLoad(HostSetSnapshot{});
  EXPECT_TRUE(load.percent.empty());
  EXPECT_TRUE(load.panic.empty());
}

TEST(PriorityLoadTest, ChoosePriorityFollowsCumulativePercentages) {
  PriorityLoad load;
  load.percent = {70, 30};
  load.panic = {false, false};
  // hash % 100 + 1 in [1, 70] is P0, [71, 100] is P1.
  EXPECT_EQ(choosePriority(load, 0), 0u);
  EXPECT_EQ(choosePriority(load, 69), 0u);
  EXPECT_EQ(choosePriority(load, 70), 1u);
  EXPECT_EQ(choosePriority(load, 99), 1u);
  EXPECT_EQ(choosePriority(load, 100), 0u);

  load.percent = {0, 100};
  for (uint64_t hash = 0; hash < 100; ++hash) {
    EXPECT_EQ(choosePriority(load, hash), 1u);
  }
}

TEST(HostSetSnapshotTest, BuildGroupsByPriorityAndHealth) {
  std::vector<HostSharedPtr> hosts = {makeHost("a", 1, 0), makeHost("b", 1, 2),
                                      makeHost("c", 1, 0)};
  const auto snapshot =
      buildHostSetSnapshot(hosts, [](const Host& host) { return host.name != "c"; });
  ASSERT_EQ(snapshot->priorities.size(), 3u);
  ASSERT_EQ(snapshot->priorities[0].hosts.size(), 2u);
  EXPECT_EQ(snapshot->priorities[0].hosts[0]->name, "a");
  EXPECT_EQ(snapshot->priorities[0].hosts[1]->name, "c");
  ASSERT_EQ(snapshot->priorities[0].healthy_hosts.size(), 1u);
  EXPECT_EQ(snapshot->priorities[0].healthy_hosts[0]->name, "a");
  EXPECT_TRUE(snapshot->priorities[1].hosts.empty());
  ASSERT_EQ(snapshot->priorities[2].healthy_hosts.size(), 1u);
  EXPECT_EQ(snapshot->priorities[2].healthy_hosts[0]->name, "b");
  EXPECT_EQ(snapshot->options.overprovisioning_factor, 140u);
  EXPECT_EQ(snapshot->options.healthy_panic_threshold, 50.0);
}

}  // namespace
}  // namespace modgate::upstream
