// chooseHost() runs on every request: check that it never allocates, by
// counting calls to the global operator new around it.
#include <atomic>
#include <cstdlib>
#include <new>

#include "gtest/gtest.h"
#include "source/upstream/load_balancer/load_balancer_factory.h"
#include "test/upstream/load_balancer/test_hosts.h"

namespace {
std::atomic<bool> counting{false};
std::atomic<long> allocations{0};
}  // namespace

void* operator new(std::size_t size) {
  if (counting.load(std::memory_order_relaxed)) {
    allocations.fetch_add(1, std::memory_order_relaxed);
  }
  if (void* p = std::malloc(size == 0 ? 1 : size)) {
    return p;
  }
  throw std::bad_alloc();
}

void operator delete(void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }

namespace modgate::upstream {
namespace {

using testing::makeHost;
using testing::makeLevel;
using testing::makeSnapshot;
using testing::TestContext;

class NoAllocationTest : public ::testing::TestWithParam<LbPolicy> {};

TEST_P(NoAllocationTest, ChooseHostDoesNotAllocate) {
  // Unequal weights, two priorities with spill-over and a panicking level,
  // bounded loads on: the most involved path of every policy.
  std::vector<HostSharedPtr> p0 = {makeHost("a", 3), makeHost("b", 1), makeHost("c", 2),
                                   makeHost("d", 1)};
  auto snapshot = makeSnapshot({makeLevel(p0, 1), makeLevel("p1-", 3, 3)});
  LbOptions options;
  options.hash_balance_factor = 100;
  auto lb = createLoadBalancer(GetParam(), options, snapshot, 3);
  ASSERT_NE(lb, nullptr);

  TestContext context;
  context.retries = 2;
  context.rejected = {"a"};
  p0[2]->active_requests = 50;  // overloaded for bounded load

  counting = true;
  for (int i = 0; i < 1000; ++i) {
    context.hash = i * 104729;
    HostSharedPtr host = lb->chooseHost(&context);
    host->active_requests++;
    host->active_requests--;
  }
  counting = false;
  EXPECT_EQ(allocations.load(), 0);
}

INSTANTIATE_TEST_SUITE_P(Policies, NoAllocationTest,
                         ::testing::Values(LbPolicy::kRoundRobin, LbPolicy::kLeastRequest,
                                           LbPolicy::kRandom, LbPolicy::kRingHash,
                                           LbPolicy::kMaglev));

}  // namespace
}  // namespace modgate::upstream
