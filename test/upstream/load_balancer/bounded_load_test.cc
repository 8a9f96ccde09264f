#include "source/upstream/load_balancer/bounded_load.h"

#include <vector>

#include "gtest/gtest.h"
#include "test/upstream/load_balancer/test_hosts.h"

namespace modgate::upstream {
namespace {

using testing::makeHosts;

class BoundedLoadTest : public ::testing::Test {
 protected:
  void setActive(const std::vector<uint32_t>& active) {
    for (size_t i = 0; i < active.size(); ++i) {
      hosts_[i]->active_requests = active[i];
    }
  }
  uint64_t clusterActive() const {
    uint64_t total = 0;
    for (const HostSharedPtr& host : hosts_) {
      total += host->active_requests;
    }
    return total;
  }

  std::vector<HostSharedPtr> hosts_ = makeHosts("h", 4);
  std::vector<double> weights_ = std::vector<double>(4, 0.25);
  std::vector<uint32_t> scratch_;
};

TEST_F(BoundedLoadTest, KeepsTheHashedHostWithinItsBound) {
  const BoundedLoad bounded(150);
  // 8 active: capacity ceil(0.25 * ceil(9 * 1.5)) = ceil(0.25 * 14) = 4.
  setActive({4, 2, 1, 1});
  EXPECT_EQ(bounded.choose(0, 42, hosts_, weights_, clusterActive(), scratch_), 0u);
}

TEST_F(BoundedLoadTest, MovesOffAnOverloadedHostDeterministically) {
  const BoundedLoad bounded(150);
  setActive({5, 2, 1, 1});  // capacity ceil(0.25 * ceil(10 * 1.5)) = 4 < 5
  const uint32_t chosen = bounded.choose(0, 42, hosts_, weights_, clusterActive(), scratch_);
  EXPECT_NE(chosen, 0u);
  EXPECT_EQ(bounded.choose(0, 42, hosts_, weights_, clusterActive(), scratch_), chosen);

  // Different hashes spread their overflow over the other hosts.
  std::vector<int> counts(4);
  for (uint64_t hash = 0; hash < 300; ++hash) {
    ++counts[bounded.choose(0, hash, hosts_, weights_, clusterActive(), scratch_)];
  }
  EXPECT_EQ(counts[0], 0);
  EXPECT_GT(counts[1], 50);
  EXPECT_GT(counts[2], 50);
  EXPECT_GT(counts[3], 50);
}

// Capacities add up to more than the cluster's load, so every host can be
// over only when the counters, read at different moments while other workers
// move them, disagree; the caller passing 0 for the cluster stands in for that.
TEST_F(BoundedLoadTest, AllOverloadedPicksTheLeastOverloaded) {
  const BoundedLoad bounded(100);
  setActive({20, 15, 12, 13});  // capacity ceil(0.25 * 1) = 1 each
  EXPECT_EQ(bounded.choose(0, 7, hosts_, weights_, /*cluster_active=*/0, scratch_), 2u);
}

TEST_F(BoundedLoadTest, WeightsScaleCapacity) {
  const BoundedLoad bounded(100);
  setActive({5, 0, 0, 0});
  // With 70% of the weight, host 0 may hold ceil(0.7 * 6) = 5.
  weights_ = {0.7, 0.1, 0.1, 0.1};
  EXPECT_EQ(bounded.choose(0, 1, hosts_, weights_, clusterActive(), scratch_), 0u);
  // With 25%, only ceil(0.25 * 6) = 2.
  weights_ = {0.25, 0.25, 0.25, 0.25};
  EXPECT_NE(bounded.choose(0, 1, hosts_, weights_, clusterActive(), scratch_), 0u);
}

}  // namespace
}  // namespace modgate::upstream
