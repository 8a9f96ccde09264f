#include "source/upstream/load_balancer/smooth_weighted_round_robin.h"

#include <string>
#include <vector>

#include "gtest/gtest.h"

namespace modgate::upstream {
namespace {

std::string sequence(SmoothWeightedRoundRobin& wrr, int picks) {
  std::string out;
  for (int i = 0; i < picks; ++i) {
    out.push_back(static_cast<char>('a' + wrr.pick()));
  }
  return out;
}

// nginx's documented example for weights 5, 1, 1.
TEST(SmoothWeightedRoundRobinTest, NginxSequence) {
  SmoothWeightedRoundRobin wrr({5, 1, 1});
  EXPECT_EQ(sequence(wrr, 7), "aabacaa");
  // The cycle repeats exactly.
  EXPECT_EQ(sequence(wrr, 7), "aabacaa");
}

TEST(SmoothWeightedRoundRobinTest, EqualWeightsRotate) {
  SmoothWeightedRoundRobin wrr({1, 1, 1});
  EXPECT_EQ(sequence(wrr, 6), "abcabc");
}

TEST(SmoothWeightedRoundRobinTest, EachWindowHonoursWeightsExactly) {
  SmoothWeightedRoundRobin wrr({70, 20, 10});
  for (int window = 0; window < 3; ++window) {
    std::vector<int> counts(3);
    for (int i = 0; i < 100; ++i) {
      ++counts[wrr.pick()];
    }
    EXPECT_EQ(counts, (std::vector<int>{70, 20, 10}));
  }
}

TEST(SmoothWeightedRoundRobinTest, SingleEntry) {
  SmoothWeightedRoundRobin wrr({3});
  EXPECT_EQ(sequence(wrr, 3), "aaa");
}

}  // namespace
}  // namespace modgate::upstream
