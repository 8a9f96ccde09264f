#include "gtest/gtest.h"
#include "source/upstream/load_balancer/load_balancer_factory.h"
#include "test/upstream/load_balancer/test_hosts.h"

namespace modgate::upstream {
namespace {

using testing::countPicks;
using testing::makeHealthySnapshot;
using testing::makeHost;
using testing::makeHosts;

// 10,000 draws: a 70% share has a standard deviation of ~0.46%, so 2% is
// more than four of them.
TEST(RandomLoadBalancerTest, WeightedShares) {
  auto lb = createLoadBalancer(
      LbPolicy::kRandom, {},
      makeHealthySnapshot({makeHost("a", 70), makeHost("b", 20), makeHost("c", 10)}), 7);
  auto counts = countPicks(*lb, 10000);
  EXPECT_NEAR(counts["a"], 7000, 200);
  EXPECT_NEAR(counts["b"], 2000, 200);
  EXPECT_NEAR(counts["c"], 1000, 200);
}

TEST(RandomLoadBalancerTest, EqualWeightsAreUniform) {
  auto lb = createLoadBalancer(LbPolicy::kRandom, {}, makeHealthySnapshot(makeHosts("h", 4)), 99);
  auto counts = countPicks(*lb, 10000);
  for (const char* name : {"h0", "h1", "h2", "h3"}) {
    EXPECT_NEAR(counts[name], 2500, 200) << name;
  }
}

TEST(RandomLoadBalancerTest, SeedsGiveDifferentStreamsAndSameSeedTheSameOne) {
  const auto snapshot = makeHealthySnapshot(makeHosts("h", 8));
  auto factory = createLoadBalancerFactory(LbPolicy::kRandom, {}, snapshot);
  auto a = factory->create(1);
  auto b = factory->create(1);
  auto c = factory->create(2);
  int same = 0;
  int different = 0;
  for (int i = 0; i < 100; ++i) {
    const HostSharedPtr from_a = a->chooseHost(nullptr);
    same += from_a == b->chooseHost(nullptr) ? 1 : 0;
    different += from_a != c->chooseHost(nullptr) ? 1 : 0;
  }
  EXPECT_EQ(same, 100);
  EXPECT_GT(different, 50);
}

}  // namespace
}  // namespace modgate::upstream
