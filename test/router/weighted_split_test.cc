#include "source/router/weighted_split.h"

#include <map>
#include <random>
#include <string>

#include "gtest/gtest.h"

namespace modgate::router {
namespace {

upstream::ClusterSharedPtr makeCluster(const std::string& name) {
  upstream::ClusterInfo info;
  info.name = name;
  return std::make_shared<upstream::Cluster>(info, std::vector<upstream::HostSharedPtr>{},
                                             upstream::ClusterStats{});
}

WeightedSplit split(uint32_t a, uint32_t b) {
  WeightedSplit s;
  s.clusters = {{makeCluster("a"), a}, {makeCluster("b"), b}};
  s.total_weight = a + b;
  return s;
}

http::RequestHeaders withHeader(const std::string& name, const std::string& value) {
  http::RequestHeaders headers;
  headers.headers.add(name, value);
  return headers;
}

TEST(AddressWithoutPortTest, StripsPorts) {
  EXPECT_EQ(addressWithoutPort("10.0.0.1:5000"), "10.0.0.1");
  EXPECT_EQ(addressWithoutPort("[::1]:80"), "::1");
  EXPECT_EQ(addressWithoutPort("::1"), "::1");
  EXPECT_EQ(addressWithoutPort("10.0.0.1"), "10.0.0.1");
}

TEST(WeightedSplitTest, RandomDrawsFollowWeights) {
  WeightedSplit s = split(70, 30);
  http::RequestHeaders none;
  std::mt19937_64 rng(42);
  int to_b = 0;
  constexpr int kDraws = 100000;
  for (int i = 0; i < kDraws; ++i) to_b += chooseWeightedCluster(s, "1.2.3.4:5", none, rng());
  EXPECT_NEAR(to_b * 100.0 / kDraws, 30.0, 1.0);
}

TEST(WeightedSplitTest, ZeroWeightNeverChosen) {
  WeightedSplit s = split(1, 0);
  http::RequestHeaders none;
  std::mt19937_64 rng(1);
  for (int i = 0; i < 10000; ++i) ASSERT_EQ(chooseWeightedCluster(s, "", none, rng()), 0u);
}

TEST(WeightedSplitTest, StickyClientsKeepTheirClusterAndSpread) {
  WeightedSplit s = split(50, 50);
  s.stickiness = canary::StickinessSpec{canary::ClientKeySource::kHeader, "x-build-id"};
  std::mt19937_64 rng(7);
  int to_b = 0;
  for (int i = 0; i < 2000; ++i) {
    auto headers = withHeader("x-build-id", "build-" + std::to_string(i));
    size_t first = chooseWeightedCluster(s, "127.0.0.1:1", headers, rng());
    for (int again = 0; again < 5; ++again) {
      ASSERT_EQ(chooseWeightedCluster(s, "127.0.0.1:1", headers, rng()), first);
    }
    to_b += first;
  }
  EXPECT_NEAR(to_b / 20.0, 50.0, 4.0);
  // Without the header the source IP is the key: stable for one client.
  http::RequestHeaders none;
  size_t by_ip = chooseWeightedCluster(s, "10.1.2.3:999", none, rng());
  EXPECT_EQ(chooseWeightedCluster(s, "10.1.2.3:1000", none, rng()), by_ip);
}

TEST(WeightedSplitTest, PinHeaderNamesACluster) {
  WeightedSplit s = split(100, 0);
  s.pin_header = "x-pin";
  EXPECT_EQ(chooseWeightedCluster(s, "", withHeader("x-pin", "b"), 0), 1u);
  EXPECT_EQ(chooseWeightedCluster(s, "", withHeader("x-pin", "nope"), 0), 0u);
}

TEST(WeightedSplitTest, RolloutIsStickyMonotonicAndPinnable) {
  WeightedSplit s = split(1, 0);
  s.stickiness = canary::StickinessSpec{canary::ClientKeySource::kHeader, "x-build-id"};
  s.pin_header = "x-modgate-canary";
  RolloutBinding rollout;
  rollout.stable = 0;
  rollout.canary = 1;
  std::map<int, size_t> side_at_10;
  for (uint32_t weight : {10u, 50u, 100u}) {
    rollout.canary_weight_percent = weight;
    s.rollout = rollout;
    int canary = 0;
    for (int i = 0; i < 5000; ++i) {
      auto headers = withHeader("x-build-id", "b" + std::to_string(i));
      size_t side = chooseWeightedCluster(s, "", headers, 0);
      canary += side == 1;
      if (weight == 10) {
        side_at_10[i] = side;
      } else if (side_at_10[i] == 1) {
        // Clients only ever move from stable to canary as the weight grows.
        ASSERT_EQ(side, 1u) << "client " << i << " at weight " << weight;
      }
    }
    EXPECT_NEAR(canary / 50.0, weight, 2.0) << "weight " << weight;
  }
  rollout.canary_weight_percent = 0;
  s.rollout = rollout;
  EXPECT_EQ(chooseWeightedCluster(s, "", withHeader("x-modgate-canary", "canary"), 0), 1u);
  rollout.canary_weight_percent = 100;
  s.rollout = rollout;
  EXPECT_EQ(chooseWeightedCluster(s, "", withHeader("x-modgate-canary", " Stable "), 0), 0u);
}

// Without the node id every sidecar of a fleet computes the same hash for
// its 127.0.0.1 clients; with it, pods are split like any other clients,
// and header keys are salted by the route so the split differs per
// rollout.
TEST(WeightedSplitTest, SidecarsSplitByNodeIdAndSaltPerRoute) {
  WeightedSplit s = split(1, 0);
  s.stickiness =
      canary::StickinessSpec{canary::ClientKeySource::kSourceIp, "", canary::splitSalt("main")};
  RolloutBinding rollout;
  rollout.canary_weight_percent = 30;
  s.rollout = rollout;
  http::RequestHeaders none;
  int canary = 0;
  for (int i = 0; i < 100; ++i) {
    s.node_id = "pod-" + std::to_string(i);
    size_t side = chooseWeightedCluster(s, "127.0.0.1:40000", none, 0);
    // One pod, one side, whatever the client's port.
    for (int port = 40001; port < 40005; ++port) {
      ASSERT_EQ(chooseWeightedCluster(s, "127.0.0.1:" + std::to_string(port), none, 0), side);
    }
    canary += side == 1;
  }
  EXPECT_NEAR(canary, 30, 6);

  // The same job id lands on independent sides for two routes.
  WeightedSplit other = s;
  other.stickiness->salt = canary::splitSalt("other");
  s.stickiness->source = canary::ClientKeySource::kHeader;
  s.stickiness->header_name = "x-build-id";
  other.stickiness->source = canary::ClientKeySource::kHeader;
  other.stickiness->header_name = "x-build-id";
  int differ = 0;
  for (int i = 0; i < 200; ++i) {
    auto headers = withHeader("x-build-id", "job-" + std::to_string(i));
    differ += chooseWeightedCluster(s, "10.0.0.1:1", headers, 0) !=
              chooseWeightedCluster(other, "10.0.0.1:1", headers, 0);
  }
  // Independent 30% draws differ for 2 x 0.3 x 0.7 = 42% of the jobs.
  EXPECT_GT(differ, 40);
}

}  // namespace
}  // namespace modgate::router
