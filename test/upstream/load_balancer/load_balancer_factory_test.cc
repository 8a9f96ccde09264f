// Behaviour every policy shares: priorities, panic, empty clusters, the retry
// host predicate, option validation and use from several workers at once.
#include "source/upstream/load_balancer/load_balancer_factory.h"

#include <atomic>
#include <string>
#include <thread>
#include <vector>

#include "gtest/gtest.h"
#include "test/upstream/load_balancer/test_hosts.h"

namespace modgate::upstream {
namespace {

using testing::countPicks;
using testing::makeHealthySnapshot;
using testing::makeHosts;
using testing::makeLevel;
using testing::makeSnapshot;
using testing::TestContext;

constexpr LbPolicy kAllPolicies[] = {LbPolicy::kRoundRobin, LbPolicy::kLeastRequest,
                                     LbPolicy::kRandom, LbPolicy::kRingHash, LbPolicy::kMaglev};

std::string policyName(const ::testing::TestParamInfo<LbPolicy>& info) {
  switch (info.param) {
    case LbPolicy::kRoundRobin:
      return "RoundRobin";
    case LbPolicy::kLeastRequest:
      return "LeastRequest";
    case LbPolicy::kRandom:
      return "Random";
    case LbPolicy::kRingHash:
      return "RingHash";
    case LbPolicy::kMaglev:
      return "Maglev";
  }
  return "Unknown";
}

// Hashing policies pick at random without a key; give them varied keys so
// both kinds spread requests the same way.
class VaryingHashContext : public TestContext {
 public:
  std::optional<uint64_t> hashKey() const override { return next_hash_++ * 0x9E3779B97F4A7C15ULL; }

 private:
  mutable uint64_t next_hash_ = 1;
};

class AllPoliciesTest : public ::testing::TestWithParam<LbPolicy> {
 protected:
  std::unique_ptr<LoadBalancer> create(std::shared_ptr<const HostSetSnapshot> snapshot,
                                       uint64_t seed = 17) {
    return createLoadBalancer(GetParam(), {}, std::move(snapshot), seed);
  }

  std::map<std::string, int> pick(LoadBalancer& lb, int n) {
    VaryingHashContext context;
    return countPicks(lb, n, &context);
  }
};

TEST_P(AllPoliciesTest, EmptySnapshotGivesNoHost) {
  auto lb = create(std::make_shared<HostSetSnapshot>());
  ASSERT_NE(lb, nullptr);
  EXPECT_EQ(lb->chooseHost(nullptr), nullptr);

  lb = create(makeSnapshot({PriorityLevel{}, PriorityLevel{}}));
  ASSERT_NE(lb, nullptr);
  EXPECT_EQ(lb->chooseHost(nullptr), nullptr);
  TestContext context;
  context.hash = 5;
  context.retries = 3;
  EXPECT_EQ(lb->chooseHost(&context), nullptr);
}

TEST_P(AllPoliciesTest, NullSnapshotGivesNoFactory) {
  EXPECT_EQ(createLoadBalancerFactory(GetParam(), {}, nullptr), nullptr);
}

TEST_P(AllPoliciesTest, SingleHost) {
  auto lb = create(makeHealthySnapshot(makeHosts("only", 1)));
  EXPECT_EQ(pick(*lb, 10)["only0"], 10);
}

// P0 entirely unhealthy, P1 healthy: P1 absorbs everything, and P0 does not
// panic because the normalized total health is 100.
TEST_P(AllPoliciesTest, FailsOverToTheNextPriority) {
  auto lb = create(makeSnapshot({makeLevel("p0-", 3, 0), makeLevel("p1-", 3, 3)}));
  auto counts = pick(*lb, 3000);
  for (const char* name : {"p1-0", "p1-1", "p1-2"}) {
    EXPECT_GT(counts[name], 600) << name;
  }
  EXPECT_EQ(counts["p1-0"] + counts["p1-1"] + counts["p1-2"], 3000);
}

// P0 half healthy: 1.4 * 50% = 70% of traffic to P0's healthy hosts, the
// other 30% spills to P1.
TEST_P(AllPoliciesTest, PartiallyHealthyPrioritySpills) {
  auto lb = create(makeSnapshot({makeLevel("p0-", 10, 5), makeLevel("p1-", 4, 4)}));
  auto counts = pick(*lb, 10000);
  int p0 = 0;
  int p1 = 0;
  for (const auto& [name, count] : counts) {
    if (name.rfind("p0-", 0) == 0) {
      p0 += count;
      EXPECT_LT(std::stoi(name.substr(3)), 5) << "unhealthy host " << name << " picked";
    } else if (name.rfind("p1-", 0) == 0) {
      p1 += count;
    }
  }
  EXPECT_NEAR(p0, 7000, 200);
  EXPECT_NEAR(p1, 3000, 200);
}

// Nothing healthy anywhere: total panic, so every host takes traffic,
// levels weighted by host count (2:2 here).
TEST_P(AllPoliciesTest, PanicWhenEverythingIsUnhealthyUsesAllHosts) {
  auto lb = create(makeSnapshot({makeLevel("p0-", 2, 0), makeLevel("p1-", 2, 0)}));
  auto counts = pick(*lb, 8000);
  for (const char* name : {"p0-0", "p0-1", "p1-0", "p1-1"}) {
    EXPECT_NEAR(counts[name], 2000, 400) << name;
  }
}

// One level, a quarter healthy: below the 50% threshold, so all four hosts.
TEST_P(AllPoliciesTest, PanicWithinALevelIgnoresHealth) {
  auto lb = create(makeSnapshot({makeLevel("h", 4, 1)}));
  auto counts = pick(*lb, 4000);
  for (const char* name : {"h0", "h1", "h2", "h3"}) {
    EXPECT_NEAR(counts[name], 1000, 250) << name;
  }
}

TEST_P(AllPoliciesTest, PanicDisabledAndNothingHealthyGivesNoHost) {
  HostSetOptions options;
  options.healthy_panic_threshold = 0;
  auto lb = create(makeSnapshot({makeLevel("h", 4, 0)}, options));
  EXPECT_EQ(lb->chooseHost(nullptr), nullptr);
}

// The predicate rejects what earlier attempts tried; with other hosts
// available and retries to spare, the balancer avoids them.
TEST_P(AllPoliciesTest, RetryPredicateAvoidsAttemptedHosts) {
  auto lb = create(makeHealthySnapshot(makeHosts("h", 3)));
  TestContext context;
  context.retries = 20;
  context.rejected = {"h0", "h1"};
  for (int i = 0; i < 200; ++i) {
    context.hash = i * 7919;
    EXPECT_EQ(lb->chooseHost(&context)->name, "h2");
  }
}

TEST_P(AllPoliciesTest, RetryPredicateRejectingEveryHostStillGivesOne) {
  auto lb = create(makeHealthySnapshot(makeHosts("h", 2)));
  TestContext context;
  context.retries = 3;
  context.rejected = {"h0", "h1"};
  context.hash = 1;
  EXPECT_NE(lb->chooseHost(&context), nullptr);
}

TEST_P(AllPoliciesTest, WithoutRetriesThePredicateIsOnlyAdvice) {
  auto lb = create(makeHealthySnapshot(makeHosts("h", 1)));
  TestContext context;
  context.rejected = {"h0"};
  EXPECT_EQ(lb->chooseHost(&context)->name, "h0");
}

// One factory, one balancer per worker thread, shared host counters: the
// threading model. Meaningful under TSan; elsewhere it checks the counts.
TEST_P(AllPoliciesTest, WorkersShareAFactoryAndHostCounters) {
  const std::vector<HostSharedPtr> hosts = makeHosts("h", 5);
  auto factory = createLoadBalancerFactory(GetParam(), {}, makeHealthySnapshot(hosts));
  ASSERT_NE(factory, nullptr);
  std::atomic<int> picked{0};
  std::vector<std::thread> workers;
  for (uint64_t seed = 0; seed < 4; ++seed) {
    workers.emplace_back([&factory, &picked, seed] {
      auto lb = factory->create(seed);
      VaryingHashContext context;
      for (int i = 0; i < 2000; ++i) {
        HostSharedPtr host = lb->chooseHost(&context);
        if (host != nullptr) {
          host->active_requests.fetch_add(1);
          host->active_requests.fetch_sub(1);
          picked.fetch_add(1);
        }
      }
    });
  }
  for (std::thread& worker : workers) {
    worker.join();
  }
  EXPECT_EQ(picked.load(), 8000);
  for (const HostSharedPtr& host : hosts) {
    EXPECT_EQ(host->active_requests.load(), 0u);
  }
}

INSTANTIATE_TEST_SUITE_P(Policies, AllPoliciesTest, ::testing::ValuesIn(kAllPolicies), policyName);

TEST(LbOptionsTest, Validation) {
  EXPECT_TRUE(validateLbOptions(LbPolicy::kRoundRobin, {}).ok());
  EXPECT_TRUE(validateLbOptions(LbPolicy::kMaglev, {}).ok());
  EXPECT_TRUE(validateLbOptions(LbPolicy::kRingHash, {}).ok());

  LbOptions options;
  options.least_request.choice_count = 1;
  EXPECT_FALSE(validateLbOptions(LbPolicy::kLeastRequest, options).ok());
  // Options of other policies are not checked.
  EXPECT_TRUE(validateLbOptions(LbPolicy::kRandom, options).ok());
  EXPECT_EQ(createLoadBalancer(LbPolicy::kLeastRequest, options,
                               makeHealthySnapshot(makeHosts("h", 2)), 0),
            nullptr);

  options = {};
  options.least_request.active_request_bias = -1;
  EXPECT_FALSE(validateLbOptions(LbPolicy::kLeastRequest, options).ok());

  options = {};
  options.maglev.table_size = 65536;
  EXPECT_FALSE(validateLbOptions(LbPolicy::kMaglev, options).ok());
  options.maglev.table_size = 5000011;
  EXPECT_TRUE(validateLbOptions(LbPolicy::kMaglev, options).ok());
  options.maglev.table_size = 5000077;  // prime, but past Envoy's limit
  EXPECT_FALSE(validateLbOptions(LbPolicy::kMaglev, options).ok());

  options = {};
  options.ring_hash.minimum_ring_size = 0;
  EXPECT_FALSE(validateLbOptions(LbPolicy::kRingHash, options).ok());
  options.ring_hash.minimum_ring_size = 2048;
  options.ring_hash.maximum_ring_size = 1024;
  EXPECT_FALSE(validateLbOptions(LbPolicy::kRingHash, options).ok());

  options = {};
  options.hash_balance_factor = 99;
  EXPECT_FALSE(validateLbOptions(LbPolicy::kRingHash, options).ok());
  EXPECT_FALSE(validateLbOptions(LbPolicy::kMaglev, options).ok());
  EXPECT_TRUE(validateLbOptions(LbPolicy::kRoundRobin, options).ok());
  options.hash_balance_factor = 100;
  EXPECT_TRUE(validateLbOptions(LbPolicy::kMaglev, options).ok());
}

}  // namespace
}  // namespace modgate::upstream
