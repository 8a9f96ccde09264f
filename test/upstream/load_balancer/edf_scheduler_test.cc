#include "source/upstream/load_balancer/edf_scheduler.h"

#include <vector>

#include "gtest/gtest.h"

namespace modgate::upstream {
namespace {

TEST(EdfSchedulerTest, FixedWeightsGiveProportionalShares) {
  const std::vector<double> weights = {70, 20, 10};
  auto weight_of = [&](size_t i) { return weights[i]; };
  EdfScheduler edf(weights.size(), weight_of);
  std::vector<int> counts(3);
  for (int i = 0; i < 1000; ++i) {
    ++counts[edf.pick(weight_of)];
  }
  EXPECT_NEAR(counts[0], 700, 2);
  EXPECT_NEAR(counts[1], 200, 2);
  EXPECT_NEAR(counts[2], 100, 2);
}

TEST(EdfSchedulerTest, TiesGoInInsertionOrder) {
  auto weight_of = [](size_t) { return 1.0; };
  EdfScheduler edf(3, weight_of);
  EXPECT_EQ(edf.pick(weight_of), 0u);
  EXPECT_EQ(edf.pick(weight_of), 1u);
  EXPECT_EQ(edf.pick(weight_of), 2u);
  EXPECT_EQ(edf.pick(weight_of), 0u);
}

TEST(EdfSchedulerTest, WeightChangesApplyWhenRescheduled) {
  std::vector<double> weights = {1, 1};
  auto weight_of = [&](size_t i) { return weights[i]; };
  EdfScheduler edf(2, weight_of);
  // Entry 0 becomes ten times lighter: once rescheduled, it comes due far
  // less often.
  weights[0] = 0.1;
  std::vector<int> counts(2);
  for (int i = 0; i < 110; ++i) {
    ++counts[edf.pick(weight_of)];
  }
  EXPECT_LE(counts[0], 12);
  EXPECT_GE(counts[1], 98);
}

}  // namespace
}  // namespace modgate::upstream
