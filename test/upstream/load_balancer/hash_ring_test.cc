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

TEST(HashRingTest, LightestHostGetsTheMinimumAndOthersInProportion) {
  // Each equal host gets minimum_ring_size points, however many there are.
  EXPECT_EQ(HashRing(equalEntries({"a", "b", "c"}), 1024, 8 << 20).size(), 3u * 1024);
  EXPECT_EQ(HashRing(equalEntries({"a", "b", "c", "d"}), 1024, 8 << 20).size(), 4u * 1024);
  // Capped by the maximum: every count scaled down to fit.
  EXPECT_EQ(HashRing(equalEntries({"a", "b", "c"}), 1024, 600).size(), 600u);

  // Weights 1:3 over a minimum of 100: the light host gets 100 points, the
  // heavy one 300.
  std::vector<HashTableEntry> weighted = {{"light", 0.25}, {"heavy", 0.75}};
  EXPECT_EQ(HashRing(weighted, 100, 8 << 20).size(), 400u);
  // Weights 7:2:1 (normalized 0.7/0.2/0.1): 7168 + 2048 + 1024.
  std::vector<HashTableEntry> tiered = {{"a", 0.7}, {"b", 0.2}, {"c", 0.1}};
  EXPECT_EQ(HashRing(tiered, 1024, 8 << 20).size(), 10240u);
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

// Share of 20000 keys whose host differs between `before` and `after`;
// fails if a key moved between two hosts that are in both (by key).
double movedShare(const std::vector<HashTableEntry>& before_entries,
                  const std::vector<HashTableEntry>& after_entries, uint64_t minimum_ring_size) {
  const HashRing before(before_entries, minimum_ring_size, 8 << 20);
  const HashRing after(after_entries, minimum_ring_size, 8 << 20);
  int moved = 0;
  for (int i = 0; i < 20000; ++i) {
    const std::string_view old_key = before_entries[before.chooseIndex(keyHash(i), 0)].key;
    const std::string_view new_key = after_entries[after.chooseIndex(keyHash(i), 0)].key;
    if (old_key == new_key) continue;
    ++moved;
    bool old_host_left = true, new_host_is_new = true;
    for (const HashTableEntry& entry : after_entries) old_host_left &= entry.key != old_key;
    for (const HashTableEntry& entry : before_entries) new_host_is_new &= entry.key != new_key;
    EXPECT_TRUE(old_host_left || new_host_is_new)
        << "key " << i << " moved between hosts present before and after: " << old_key << " -> "
        << new_key;
  }
  return moved / 20000.0;
}

// With the default minimum, a 4th equal host takes about a quarter of the
// keys, all for itself: the old hosts keep their points.
TEST(HashRingTest, NewHostTakesOnlyItsOwnShareOfKeys) {
  const double share =
      movedShare(equalEntries({"a", "b", "c"}), equalEntries({"a", "b", "c", "d"}), 1024);
  EXPECT_NEAR(share, 0.25, 0.03);
}

TEST(HashRingTest, RemovedHostGivesUpOnlyItsOwnKeys) {
  const double share = movedShare(equalEntries({"10.0.0.1:80", "10.0.0.2:80", "10.0.0.3:80"}),
                                  equalEntries({"10.0.0.1:80", "10.0.0.3:80"}), 1024);
  EXPECT_NEAR(share, 1.0 / 3, 0.03);
}

TEST(HashRingTest, NewHostAmongWeightedHostsTakesItsWeightShare) {
  // Weights 2:1 plus a new host of weight 1: it takes 1/4 of the keys.
  std::vector<HashTableEntry> before = {{"a", 2.0 / 3}, {"b", 1.0 / 3}};
  std::vector<HashTableEntry> after = {{"a", 0.5}, {"b", 0.25}, {"c", 0.25}};
  EXPECT_NEAR(movedShare(before, after, 1024), 0.25, 0.03);
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
