#include "source/upstream/load_balancer/hash_ring.h"

#include <map>
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

uint64_t keyHash(int i) { return xxHash64("key" + std::to_string(i)); }

TEST(HashRingTest, SizedAsEnvoySizesIt) {
  const std::vector<std::string> keys = {"a", "b", "c"};
  // The lightest host (1/3) gets ceil(1024 / 3) = 342 points.
  EXPECT_EQ(HashRing(equalEntries(keys), 1024, 8 << 20).size(), 3u * 342);
  // Capped by the maximum.
  EXPECT_EQ(HashRing(equalEntries(keys), 1024, 600).size(), 600u);

  // Weights 1:3 over a minimum of 100: the light host gets 25 points, the
  // heavy one 75.
  std::vector<HashTableEntry> weighted = {{"light", 0.25}, {"heavy", 0.75}};
  const HashRing ring(weighted, 100, 8 << 20);
  EXPECT_EQ(ring.size(), 100u);
}

TEST(HashRingTest, SameHashSameHostWhateverTheEntryOrder) {
  const std::vector<std::string> keys = {"10.0.0.1:443", "10.0.0.2:443", "10.0.0.3:443"};
  const std::vector<std::string> reversed(keys.rbegin(), keys.rend());
  const HashRing ring(equalEntries(keys), 1024, 8 << 20);
  const HashRing reversed_ring(equalEntries(reversed), 1024, 8 << 20);
  for (int i = 0; i < 1000; ++i) {
    const uint32_t index = ring.chooseIndex(keyHash(i), 0);
    EXPECT_EQ(index, ring.chooseIndex(keyHash(i), 0));
    EXPECT_EQ(keys[index], reversed[reversed_ring.chooseIndex(keyHash(i), 0)]);
  }
}

TEST(HashRingTest, WeightsSetShares) {
  std::vector<HashTableEntry> entries = {{"a", 0.7}, {"b", 0.2}, {"c", 0.1}};
  const HashRing ring(entries, 4096, 8 << 20);
  std::vector<int> counts(3);
  for (int i = 0; i < 20000; ++i) {
    ++counts[ring.chooseIndex(keyHash(i), 0)];
  }
  EXPECT_NEAR(counts[0] / 20000.0, 0.7, 0.05);
  EXPECT_NEAR(counts[1] / 20000.0, 0.2, 0.05);
  EXPECT_NEAR(counts[2] / 20000.0, 0.1, 0.05);
}

// When the other hosts keep their point counts, a new host takes keys only
// for itself. (Sizes chosen so that 3 and 4 hosts both get 342 points each.)
TEST(HashRingTest, NewHostWithStablePointCountsTakesOnlyItsOwnKeys) {
  const HashRing before(equalEntries({"a", "b", "c"}), 3 * 342, 8 << 20);
  const HashRing after(equalEntries({"a", "b", "c", "d"}), 4 * 342, 8 << 20);
  ASSERT_EQ(before.size(), 3u * 342);
  ASSERT_EQ(after.size(), 4u * 342);
  int moved = 0;
  for (int i = 0; i < 10000; ++i) {
    const uint32_t old_index = before.chooseIndex(keyHash(i), 0);
    const uint32_t new_index = after.chooseIndex(keyHash(i), 0);
    if (old_index != new_index) {
      ++moved;
      EXPECT_EQ(new_index, 3u) << "key " << i << " moved between old hosts";
    }
  }
  EXPECT_GT(moved, 1500);
  EXPECT_LT(moved, 3500);
}

TEST(HashRingTest, RetryAttemptsStepAlongTheRing) {
  const HashRing ring(equalEntries({"a", "b", "c"}), 1024, 8 << 20);
  int changed = 0;
  for (int i = 0; i < 1000; ++i) {
    const uint32_t first = ring.chooseIndex(keyHash(i), 0);
    EXPECT_EQ(ring.chooseIndex(keyHash(i), 1), ring.chooseIndex(keyHash(i), 1));
    bool found_other = false;
    for (uint32_t attempt = 1; attempt <= 8 && !found_other; ++attempt) {
      found_other = ring.chooseIndex(keyHash(i), attempt) != first;
    }
    changed += found_other ? 1 : 0;
  }
  EXPECT_EQ(changed, 1000);
}

TEST(HashRingTest, HashesPastTheLastPointWrapToTheFirst) {
  const HashRing ring(equalEntries({"a", "b"}), 16, 8 << 20);
  EXPECT_EQ(ring.chooseIndex(~uint64_t{0}, 0), ring.chooseIndex(0, 0));
}

}  // namespace
}  // namespace modgate::upstream
