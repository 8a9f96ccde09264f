#include <string>

#include "gtest/gtest.h"
#include "source/upstream/load_balancer/load_balancer_factory.h"
#include "test/upstream/load_balancer/test_hosts.h"

namespace modgate::upstream {
namespace {

using testing::countPicks;
using testing::makeHealthySnapshot;
using testing::makeHost;
using testing::makeHosts;

TEST(RoundRobinLoadBalancerTest, NginxSequenceForWeights511) {
  auto lb = createLoadBalancer(
      LbPolicy::kRoundRobin, {},
      makeHealthySnapshot({makeHost("a", 5), makeHost("b", 1), makeHost("c", 1)}), /*seed=*/0);
  std::string sequence;
  for (int i = 0; i < 14; ++i) {
    sequence += lb->chooseHost(nullptr)->name;
  }
  EXPECT_EQ(sequence, "aabacaaaabacaa");
}

TEST(RoundRobinLoadBalancerTest, WeightedShares) {
  auto lb = createLoadBalancer(
      LbPolicy::kRoundRobin, {},
      makeHealthySnapshot({makeHost("a", 70), makeHost("b", 20), makeHost("c", 10)}), 12345);
  auto counts = countPicks(*lb, 10000);
  EXPECT_NEAR(counts["a"], 7000, 200);
  EXPECT_NEAR(counts["b"], 2000, 200);
  EXPECT_NEAR(counts["c"], 1000, 200);
}

TEST(RoundRobinLoadBalancerTest, SeedsStaggerTheStartingHost) {
  const auto snapshot = makeHealthySnapshot(makeHosts("h", 4));
  auto factory = createLoadBalancerFactory(LbPolicy::kRoundRobin, {}, snapshot);
  ASSERT_NE(factory, nullptr);
  EXPECT_EQ(factory->create(0)->chooseHost(nullptr)->name, "h0");
  EXPECT_EQ(factory->create(1)->chooseHost(nullptr)->name, "h1");
  EXPECT_EQ(factory->create(6)->chooseHost(nullptr)->name, "h2");
}

TEST(RoundRobinLoadBalancerTest, OnlyHealthyHosts) {
  PriorityLevel level = testing::makeLevel("h", 4, 3);
  auto lb = createLoadBalancer(LbPolicy::kRoundRobin, {}, testing::makeSnapshot({level}), 0);
  auto counts = countPicks(*lb, 300);
  EXPECT_EQ(counts["h0"], 100);
  EXPECT_EQ(counts["h1"], 100);
  EXPECT_EQ(counts["h2"], 100);
  EXPECT_EQ(counts.count("h3"), 0u);
}

}  // namespace
}  // namespace modgate::upstream
