#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "source/upstream/load_balancer/hash_ring.h"
#include "source/upstream/load_balancer/maglev_table.h"
#include "source/upstream/load_balancer/module_path_hash.h"

namespace modgate::upstream {
namespace {

// Where known module paths land on a ring hash and a Maglev table of three
// hosts, pinned: the hash behind them moved from a hand-written XXH64 to
// Debian's libxxhash, and a change here would reshuffle every cached module
// across a sharded edge tier. The strings are the chosen host index per key.
const std::vector<std::string> kHosts = {"10.0.0.1:443", "10.0.0.2:443", "10.0.0.3:443"};

std::vector<HashTableEntry> entries() {
  std::vector<HashTableEntry> result;
  for (const std::string& host : kHosts) result.push_back(HashTableEntry{host, 1.0 / 3});
  return result;
}

std::string placements(const HostHashTable& table) {
  std::string out;
  for (int i = 0; i < 48; ++i) {
    const uint64_t hash = hashModulePath("example.com/module" + std::to_string(i));
    out += std::to_string(table.chooseIndex(hash, 0));
  }
  return out;
}

TEST(PlacementPinningTest, RingHashPositionsOfKnownKeysAreUnchanged) {
  EXPECT_EQ(placements(HashRing(entries(), 1024, 8 << 20)),
            "201010102202002211211221001110122011210111100000");
}

TEST(PlacementPinningTest, MaglevPositionsOfKnownKeysAreUnchanged) {
  EXPECT_EQ(placements(MaglevTable(entries(), 65537)),
            "120222020101212011021000010202000200201212211010");
}

}  // namespace
}  // namespace modgate::upstream
