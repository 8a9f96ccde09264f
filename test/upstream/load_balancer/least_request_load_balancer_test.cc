#include "gtest/gtest.h"
#include "source/upstream/load_balancer/load_balancer_factory.h"
#include "test/upstream/load_balancer/test_hosts.h"

namespace modgate::upstream {
namespace {

using testing::countPicks;
using testing::makeHealthySnapshot;
using testing::makeHost;
using testing::makeHosts;

// Unequal weights, equal load: the EDF schedule gives exact weight shares.
TEST(LeastRequestLoadBalancerTest, WeightedSharesWithEqualActiveRequests) {
  std::vector<HostSharedPtr> hosts = {makeHost("a", 70), makeHost("b", 20), makeHost("c", 10)};
  for (const HostSharedPtr& host : hosts) {
    host->active_requests = 3;
  }
  auto lb = createLoadBalancer(LbPolicy::kLeastRequest, {}, makeHealthySnapshot(hosts), 5);
  auto counts = countPicks(*lb, 10000);
  EXPECT_NEAR(counts["a"], 7000, 200);
  EXPECT_NEAR(counts["b"], 2000, 200);
  EXPECT_NEAR(counts["c"], 1000, 200);
}

TEST(LeastRequestLoadBalancerTest, EqualWeightsEqualLoadIsUniform) {
  auto lb =
      createLoadBalancer(LbPolicy::kLeastRequest, {}, makeHealthySnapshot(makeHosts("h", 3)), 5);
  auto counts = countPicks(*lb, 9000);
  for (const char* name : {"h0", "h1", "h2"}) {
    EXPECT_NEAR(counts[name], 3000, 200) << name;
  }
}

// Two hosts, two choices: the busy host wins only when both samples are it,
// a quarter of the time.
TEST(LeastRequestLoadBalancerTest, PrefersTheHostWithFewerActiveRequests) {
  std::vector<HostSharedPtr> hosts = makeHosts("h", 2);
  hosts[0]->active_requests = 5;
  auto lb = createLoadBalancer(LbPolicy::kLeastRequest, {}, makeHealthySnapshot(hosts), 11);
  auto counts = countPicks(*lb, 10000);
  EXPECT_NEAR(counts["h1"], 7500, 250);

  // With more choices the idle host nearly always wins.
  LbOptions options;
  options.least_request.choice_count = 10;
  lb = createLoadBalancer(LbPolicy::kLeastRequest, options, makeHealthySnapshot(hosts), 11);
  counts = countPicks(*lb, 10000);
  EXPECT_GT(counts["h1"], 9950);
}

TEST(LeastRequestLoadBalancerTest, FollowsLoadAsItChanges) {
  std::vector<HostSharedPtr> hosts = makeHosts("h", 3);
  auto lb = createLoadBalancer(LbPolicy::kLeastRequest, {}, makeHealthySnapshot(hosts), 3);
  // Callers count each pick as an active request and never finish: picks
  // keep the hosts' loads within one or two of each other.
  for (int i = 0; i < 3000; ++i) {
    lb->chooseHost(nullptr)->active_requests++;
  }
  for (const HostSharedPtr& host : hosts) {
    EXPECT_NEAR(host->active_requests.load(), 1000, 30) << host->name;
  }
}

// Unequal weights: effective weight = weight / (active + 1).
TEST(LeastRequestLoadBalancerTest, WeightedPrefersLessLoadedHosts) {
  std::vector<HostSharedPtr> hosts = {makeHost("heavy", 2), makeHost("light", 1)};
  hosts[0]->active_requests = 9;  // 2 / 10 = 0.2 against 1 / 1
  auto lb = createLoadBalancer(LbPolicy::kLeastRequest, {}, makeHealthySnapshot(hosts), 0);
  auto counts = countPicks(*lb, 1200);
  EXPECT_NEAR(counts["light"], 1000, 20);
  EXPECT_NEAR(counts["heavy"], 200, 20);

  // Bias 0 ignores load: back to 2:1.
  LbOptions options;
  options.least_request.active_request_bias = 0.0;
  lb = createLoadBalancer(LbPolicy::kLeastRequest, options, makeHealthySnapshot(hosts), 0);
  counts = countPicks(*lb, 1200);
  EXPECT_NEAR(counts["heavy"], 800, 20);
}

}  // namespace
}  // namespace modgate::upstream
