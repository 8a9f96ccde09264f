// Ring hash and Maglev through the public factory: the properties callers
// rely on, checked for both policies.
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "source/upstream/load_balancer/load_balancer_factory.h"
#include "source/upstream/load_balancer/module_path_hash.h"
#include "test/upstream/load_balancer/test_hosts.h"

namespace modgate::upstream {
namespace {

using testing::countPicks;
using testing::makeHealthySnapshot;
using testing::makeHost;
using testing::makeHosts;
using testing::placeKeys;
using testing::TestContext;

constexpr int kKeys = 10000;

class ConsistentHashingTest : public ::testing::TestWithParam<LbPolicy> {
 protected:
  std::unique_ptr<LoadBalancer> create(const std::vector<HostSharedPtr>& hosts, uint64_t seed = 0,
                                       const LbOptions& options = {}) {
    auto lb = createLoadBalancer(GetParam(), options, makeHealthySnapshot(hosts), seed);
    EXPECT_NE(lb, nullptr);
    return lb;
  }
};

TEST_P(ConsistentHashingTest, SameKeySameHost) {
  const std::vector<HostSharedPtr> hosts = makeHosts("10.0.0.", 3);
  auto lb = create(hosts, 1);
  const std::vector<std::string> first = placeKeys(*lb, 1000);
  EXPECT_EQ(placeKeys(*lb, 1000), first);

  // Another worker's balancer, and one built from a reordered host list.
  EXPECT_EQ(placeKeys(*create(hosts, 2), 1000), first);
  const std::vector<HostSharedPtr> reordered(hosts.rbegin(), hosts.rend());
  EXPECT_EQ(placeKeys(*create(reordered, 3), 1000), first);
}

TEST_P(ConsistentHashingTest, KeysSpreadOverHosts) {
  auto lb = create(makeHosts("10.0.0.", 3));
  std::map<std::string, int> counts;
  for (const std::string& host : placeKeys(*lb, kKeys)) {
    ++counts[host];
  }
  ASSERT_EQ(counts.size(), 3u);
  for (const auto& [host, count] : counts) {
    EXPECT_NEAR(count, kKeys / 3, kKeys / 10) << host;
  }
}

// The ideal on adding a 4th host to 3 is 1/4 of keys, all to the new host.
// Neither algorithm is ideal (see HashRing and MaglevTable): some keys also
// move between the old hosts. This bounds both effects. Measured here: ring
// hash moves 38% of keys, 11% between old hosts (each old host drops from 342
// to 256 points at the default minimum ring size); Maglev moves 25%, under
// 0.1% between old hosts.
TEST_P(ConsistentHashingTest, AddingAFourthHostMovesAboutAQuarterOfKeys) {
  std::vector<HostSharedPtr> hosts = makeHosts("10.0.0.", 3);
  const std::vector<std::string> before = placeKeys(*create(hosts), kKeys);
  hosts.push_back(makeHost("10.0.0.3"));
  const std::vector<std::string> after = placeKeys(*create(hosts), kKeys);

  int moved = 0;
  int moved_between_old_hosts = 0;
  for (int i = 0; i < kKeys; ++i) {
    if (before[i] != after[i]) {
      ++moved;
      moved_between_old_hosts += after[i] != "10.0.0.3" ? 1 : 0;
    }
  }
  RecordProperty("moved", moved);
  RecordProperty("moved_between_old_hosts", moved_between_old_hosts);
  EXPECT_GE(moved, kKeys * 15 / 100);
  EXPECT_LE(moved, kKeys * 40 / 100);
  EXPECT_LE(moved_between_old_hosts, kKeys * 15 / 100);
}

// Removing a host moves its keys and few others.
TEST_P(ConsistentHashingTest, RemovingAHostMovesItsKeys) {
  std::vector<HostSharedPtr> hosts = makeHosts("10.0.0.", 4);
  const std::vector<std::string> before = placeKeys(*create(hosts), kKeys);
  hosts.pop_back();
  const std::vector<std::string> after = placeKeys(*create(hosts), kKeys);
  int orphaned = 0;
  int moved_between_remaining_hosts = 0;
  for (int i = 0; i < kKeys; ++i) {
    if (before[i] == "10.0.0.3") {
      ++orphaned;
      EXPECT_NE(after[i], "10.0.0.3");
    } else if (before[i] != after[i]) {
      ++moved_between_remaining_hosts;
    }
  }
  EXPECT_NEAR(orphaned, kKeys / 4, kKeys / 10);
  EXPECT_LE(moved_between_remaining_hosts, kKeys * 15 / 100);
}

TEST_P(ConsistentHashingTest, WeightsSetShares) {
  auto lb = create({makeHost("a", 70), makeHost("b", 20), makeHost("c", 10)});
  std::map<std::string, int> counts;
  for (const std::string& host : placeKeys(*lb, kKeys)) {
    ++counts[host];
  }
  EXPECT_NEAR(counts["a"], 7000, 500);
  EXPECT_NEAR(counts["b"], 2000, 500);
  EXPECT_NEAR(counts["c"], 1000, 500);
}

TEST_P(ConsistentHashingTest, WithoutAHashKeyPicksAtRandom) {
  auto lb = create(makeHosts("h", 3), 4);
  auto counts = countPicks(*lb, 3000);
  for (const char* name : {"h0", "h1", "h2"}) {
    EXPECT_NEAR(counts[name], 1000, 300) << name;
  }
}

TEST_P(ConsistentHashingTest, BoundedLoadMovesKeysOffAnOverloadedHost) {
  std::vector<HostSharedPtr> hosts = makeHosts("10.0.0.", 4);
  LbOptions options;
  options.hash_balance_factor = 150;
  auto lb = create(hosts, 0, options);

  TestContext context;
  context.hash = hashModulePath("golang.org/x/mod");
  const HostSharedPtr home = lb->chooseHost(&context);

  // The key's home host holds 40 of 43 requests in flight: over its bound
  // of ceil(0.25 * ceil(44 * 1.5)) = 17, so the key goes elsewhere, to the
  // same place each time.
  home->active_requests = 40;
  for (const HostSharedPtr& host : hosts) {
    if (host != home) {
      host->active_requests = 1;
    }
  }
  const HostSharedPtr overflow = lb->chooseHost(&context);
  EXPECT_NE(overflow, home);
  EXPECT_EQ(lb->chooseHost(&context), overflow);

  // Keys homed elsewhere stay put; only the overloaded host's keys move.
  auto unbounded = create(hosts, 0);
  const std::vector<std::string> without_bound = placeKeys(*unbounded, 2000);
  const std::vector<std::string> with_bound = placeKeys(*lb, 2000);
  for (int i = 0; i < 2000; ++i) {
    if (without_bound[i] == home->name) {
      EXPECT_NE(with_bound[i], home->name);
    } else {
      EXPECT_EQ(with_bound[i], without_bound[i]);
    }
  }

  // Back under its bound, the host gets its key back.
  home->active_requests = 1;
  EXPECT_EQ(lb->chooseHost(&context), home);
}

TEST_P(ConsistentHashingTest, RetryPredicateFindsAnotherHostForTheKey) {
  auto lb = create(makeHosts("h", 3));
  TestContext context;
  // Neighbouring ring points, or retry slots, can belong to the rejected host
  // too: a retry finds another host only with some probability.
  context.retries = 20;
  for (int i = 0; i < 200; ++i) {
    context.hash = hashModulePath("example.com/m" + std::to_string(i));
    context.rejected.clear();
    const HostSharedPtr first = lb->chooseHost(&context);
    context.rejected.insert(first->name);
    const HostSharedPtr second = lb->chooseHost(&context);
    EXPECT_NE(second, first);
    // Deterministic: the same key retries onto the same host.
    EXPECT_EQ(lb->chooseHost(&context), second);
  }
}

INSTANTIATE_TEST_SUITE_P(Policies, ConsistentHashingTest,
                         ::testing::Values(LbPolicy::kRingHash, LbPolicy::kMaglev),
                         [](const ::testing::TestParamInfo<LbPolicy>& info) {
                           return info.param == LbPolicy::kRingHash ? "RingHash" : "Maglev";
                         });

TEST(RingHashLoadBalancerTest, SmallRingStillWorks) {
  LbOptions options;
  options.ring_hash.minimum_ring_size = 3;
  options.ring_hash.maximum_ring_size = 3;
  auto lb =
      createLoadBalancer(LbPolicy::kRingHash, options, makeHealthySnapshot(makeHosts("h", 3)), 0);
  ASSERT_NE(lb, nullptr);
  EXPECT_EQ(placeKeys(*lb, 100), placeKeys(*lb, 100));
}

TEST(MaglevLoadBalancerTest, CustomPrimeTableSize) {
  LbOptions options;
  options.maglev.table_size = 251;
  auto lb =
      createLoadBalancer(LbPolicy::kMaglev, options, makeHealthySnapshot(makeHosts("h", 3)), 0);
  ASSERT_NE(lb, nullptr);
  std::map<std::string, int> counts;
  for (const std::string& host : placeKeys(*lb, 3000)) {
    ++counts[host];
  }
  EXPECT_EQ(counts.size(), 3u);
}

}  // namespace
}  // namespace modgate::upstream
