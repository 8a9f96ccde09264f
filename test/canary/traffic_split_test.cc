#include "source/canary/traffic_split.h"

#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "source/canary/client_hash.h"

namespace modgate::canary {
namespace {

std::vector<uint64_t> distinctClients(int count) {
  std::vector<uint64_t> hashes;
  hashes.reserve(count);
  // Addresses as the proxy would see them: neighbours differ in one byte.
  for (int i = 0; i < count; ++i) {
    hashes.push_back(clientHash("10." + std::to_string(i / 65536) + "." +
                                std::to_string((i / 256) % 256) + "." + std::to_string(i % 256)));
  }
  return hashes;
}

TEST(TrafficSplitTest, ShareFollowsTheWeightAtEveryStage) {
  std::vector<uint64_t> clients = distinctClients(10000);
  for (uint32_t weight : {0, 1, 5, 10, 25, 50, 75, 90, 100}) {
    int canary = 0;
    for (uint64_t hash : clients) canary += choose(hash, weight, std::nullopt) == Side::kCanary;
    double share = 100.0 * canary / static_cast<double>(clients.size());
    EXPECT_NEAR(share, weight, 3.0) << "weight " << weight;
  }
}

TEST(TrafficSplitTest, ZeroAndHundredAreExact) {
  for (uint64_t hash : distinctClients(2000)) {
    EXPECT_EQ(choose(hash, 0, std::nullopt), Side::kStable);
    EXPECT_EQ(choose(hash, 100, std::nullopt), Side::kCanary);
    EXPECT_EQ(choose(hash, 250, std::nullopt), Side::kCanary);
  }
  EXPECT_EQ(choose(0, 1, std::nullopt), Side::kCanary);
  EXPECT_EQ(choose(~uint64_t{0}, 99, std::nullopt), Side::kStable);
}

TEST(TrafficSplitTest, ClientsOnlyMoveFromStableToCanaryAsWeightGrows) {
  std::vector<uint64_t> clients = distinctClients(10000);
  std::vector<Side> previous(clients.size(), Side::kStable);
  for (uint32_t weight = 0; weight <= 100; ++weight) {
    for (size_t i = 0; i < clients.size(); ++i) {
      Side side = choose(clients[i], weight, std::nullopt);
      ASSERT_FALSE(previous[i] == Side::kCanary && side == Side::kStable)
          << "client " << i << " moved back at weight " << weight;
      previous[i] = side;
    }
  }
}

TEST(TrafficSplitTest, OneClientStaysOnOneSideWhileTheWeightHolds) {
  uint64_t hash = clientHash("build-agent-17");
  Side first = choose(hash, 37, std::nullopt);
  for (int i = 0; i < 100; ++i) EXPECT_EQ(choose(hash, 37, std::nullopt), first);
}

TEST(TrafficSplitTest, PinsWin) {
  for (uint64_t hash : distinctClients(100)) {
    EXPECT_EQ(choose(hash, 0, Side::kCanary), Side::kCanary);
    EXPECT_EQ(choose(hash, 100, Side::kStable), Side::kStable);
  }
}

TEST(TrafficSplitTest, ParsePin) {
  EXPECT_EQ(parsePin("stable"), Side::kStable);
  EXPECT_EQ(parsePin("canary"), Side::kCanary);
  EXPECT_EQ(parsePin("  Canary "), Side::kCanary);
  EXPECT_EQ(parsePin("STABLE"), Side::kStable);
  EXPECT_EQ(parsePin(""), std::nullopt);
  EXPECT_EQ(parsePin("canary2"), std::nullopt);
  EXPECT_EQ(parsePin("new"), std::nullopt);
  EXPECT_EQ(sideName(Side::kCanary), "canary");
  EXPECT_EQ(sideName(Side::kStable), "stable");
}

TEST(TrafficSplitTest, BucketsCoverTheRange) {
  EXPECT_EQ(splitBucket(0), 0u);
  EXPECT_EQ(splitBucket(~uint64_t{0}), kSplitBuckets - 1);
  EXPECT_EQ(splitBucket(uint64_t{1} << 63), kSplitBuckets / 2);
}

TEST(ClientHashTest, StableAcrossBuilds) {
  // A golden value, computed independently (FNV-1a 64, then the SplitMix64
  // finalizer): changing the hash would move every client at once.
  EXPECT_EQ(clientHash(""), clientHash(""));
  EXPECT_NE(clientHash("10.0.0.1"), clientHash("10.0.0.2"));
  EXPECT_NE(clientHash("10.0.0.1"), clientHash("10.0.0.1", 1));
  EXPECT_EQ(clientHash("10.0.0.1"), 0x7fb1b600f0f5c6d3ULL) << std::hex << clientHash("10.0.0.1");
}

TEST(ClientHashTest, ClientKeyPrefersTheConfiguredHeader) {
  StickinessSpec by_ip;
  EXPECT_EQ(clientKey(by_ip, "192.0.2.1", "build-1"), "192.0.2.1");
  StickinessSpec by_header{ClientKeySource::kHeader, "x-build-id"};
  EXPECT_EQ(clientKey(by_header, "192.0.2.1", "build-1"), "build-1");
  EXPECT_EQ(clientKey(by_header, "192.0.2.1", std::nullopt), "192.0.2.1");
  EXPECT_EQ(clientKey(by_header, "192.0.2.1", ""), "192.0.2.1");
}

TEST(ClientHashTest, LoopbackClientsAndNodeStickinessUseTheNodeId) {
  StickinessSpec by_ip;
  EXPECT_EQ(clientKey(by_ip, "127.0.0.1", std::nullopt, "pod-7"), "pod-7");
  EXPECT_EQ(clientKey(by_ip, "127.3.2.1", std::nullopt, "pod-7"), "pod-7");
  EXPECT_EQ(clientKey(by_ip, "::1", std::nullopt, "pod-7"), "pod-7");
  EXPECT_EQ(clientKey(by_ip, "::ffff:127.0.0.1", std::nullopt, "pod-7"), "pod-7");
  EXPECT_EQ(clientKey(by_ip, "10.0.0.1", std::nullopt, "pod-7"), "10.0.0.1");
  EXPECT_EQ(clientKey(by_ip, "::ffff:10.0.0.1", std::nullopt, "pod-7"), "::ffff:10.0.0.1");
  EXPECT_EQ(clientKey(by_ip, "1270::1", std::nullopt, "pod-7"), "1270::1");
  // Without a node id the address is all there is.
  EXPECT_EQ(clientKey(by_ip, "127.0.0.1", std::nullopt, ""), "127.0.0.1");

  StickinessSpec by_node{ClientKeySource::kNode, ""};
  EXPECT_EQ(clientKey(by_node, "10.0.0.1", "build-1", "pod-7"), "pod-7");
  // A header wins over the node; without it a loopback client is the node.
  StickinessSpec by_header{ClientKeySource::kHeader, "x-build-id"};
  EXPECT_EQ(clientKey(by_header, "127.0.0.1", "build-1", "pod-7"), "build-1");
  EXPECT_EQ(clientKey(by_header, "127.0.0.1", std::nullopt, "pod-7"), "pod-7");
}

// The finding: 100 sidecars, every one of them seeing its builds
// from 127.0.0.1. Hashing the (salted) node id, about W% of the pods use
// the canary at weight W, pods only move stable -> canary, and two
// rollouts pick different pods.
TEST(TrafficSplitTest, AFleetOfSidecarsMovesPodByPod) {
  constexpr int kNodes = 100;
  const StickinessSpec spec{ClientKeySource::kSourceIp, "", splitSalt("public")};
  auto nodeHash = [&](int i, uint64_t salt) {
    std::string node = "ci-runner-" + std::to_string(i);
    return clientHash(clientKey(spec, "127.0.0.1", std::nullopt, node), salt);
  };
  std::vector<Side> previous(kNodes, Side::kStable);
  for (uint32_t weight : {0, 1, 5, 10, 25, 50, 75, 90, 100}) {
    int canary = 0;
    for (int i = 0; i < kNodes; ++i) {
      Side side = choose(nodeHash(i, spec.salt), weight, std::nullopt);
      ASSERT_FALSE(previous[i] == Side::kCanary && side == Side::kStable)
          << "node " << i << " moved back at weight " << weight;
      previous[i] = side;
      canary += side == Side::kCanary;
    }
    // 100 fair coins at W% have a standard deviation of at most 5 points;
    // the hash is deterministic, so this is a fixed fact about these ids.
    EXPECT_NEAR(canary, weight, 6.0) << "weight " << weight;
    if (weight == 0 || weight == 100) {
      EXPECT_EQ(canary, static_cast<int>(weight));
    }
  }
  // Another route's rollout at 20% takes mostly other pods than this one's.
  int both = 0, first = 0;
  const uint64_t other_salt = splitSalt("private");
  for (int i = 0; i < kNodes; ++i) {
    bool in_first = choose(nodeHash(i, spec.salt), 20, std::nullopt) == Side::kCanary;
    bool in_other = choose(nodeHash(i, other_salt), 20, std::nullopt) == Side::kCanary;
    first += in_first;
    both += in_first && in_other;
  }
  EXPECT_LT(both, first) << "the two rollouts chose the same pods";
}

}  // namespace
}  // namespace modgate::canary
