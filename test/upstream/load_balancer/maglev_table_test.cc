#include "source/upstream/load_balancer/maglev_table.h"

#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "source/upstream/load_balancer/xxhash64.h"

namespace modgate::upstream {
namespace {

std::vector<HashTableEntry> equalEntries(const std::vector<std::string>& keys) {
  std::vector<HashTableEntry> entries;
  for (const std::string& key : keys) {
    entries.push_back(HashTableEntry{key, 1.0 / keys.size()});
  }
  return entries;
}

TEST(MaglevTableTest, EqualWeightsSplitTheTableEvenly) {
  const std::vector<std::string> keys = {"a", "b", "c", "d", "e"};
  const MaglevTable table(equalEntries(keys), 65537);
  for (uint32_t i = 0; i < keys.size(); ++i) {
    EXPECT_NEAR(static_cast<double>(table.slotsOf(i)), 65537.0 / 5, 2) << keys[i];
  }
}

TEST(MaglevTableTest, SlotsFollowWeights) {
  std::vector<HashTableEntry> entries = {{"one", 1.0 / 6}, {"two", 2.0 / 6}, {"three", 3.0 / 6}};
  const MaglevTable table(entries, 65537);
  EXPECT_NEAR(table.slotsOf(0) / 65537.0, 1.0 / 6, 0.01);
  EXPECT_NEAR(table.slotsOf(1) / 65537.0, 2.0 / 6, 0.01);
  EXPECT_NEAR(table.slotsOf(2) / 65537.0, 3.0 / 6, 0.01);
}

TEST(MaglevTableTest, SameTableWhateverTheEntryOrder) {
  const std::vector<std::string> keys = {"10.0.0.1:443", "10.0.0.2:443", "10.0.0.3:443"};
  const std::vector<std::string> reversed(keys.rbegin(), keys.rend());
  const MaglevTable table(equalEntries(keys), 65537);
  const MaglevTable reversed_table(equalEntries(reversed), 65537);
  for (uint64_t hash = 0; hash < 65537; ++hash) {
    ASSERT_EQ(keys[table.chooseIndex(hash, 0)], reversed[reversed_table.chooseIndex(hash, 0)]);
  }
}

TEST(MaglevTableTest, RetryAttemptsPickElsewhereInTheTable) {
  const MaglevTable table(equalEntries({"a", "b", "c"}), 65537);
  int differs = 0;
  for (int i = 0; i < 1000; ++i) {
    const uint64_t hash = xxHash64("key" + std::to_string(i));
    EXPECT_EQ(table.chooseIndex(hash, 1), table.chooseIndex(hash, 1));
    differs += table.chooseIndex(hash, 1) != table.chooseIndex(hash, 0) ? 1 : 0;
  }
  // A retry lands on another of 3 hosts about 2/3 of the time.
  EXPECT_GT(differs, 550);
  EXPECT_LT(differs, 780);
}

TEST(MaglevTableTest, SmallPrimeTable) {
  const MaglevTable table(equalEntries({"a", "b"}), 7);
  EXPECT_EQ(table.slotsOf(0) + table.slotsOf(1), 7u);
  EXPECT_GE(table.slotsOf(0), 3u);
  EXPECT_GE(table.slotsOf(1), 3u);
}

}  // namespace
}  // namespace modgate::upstream
