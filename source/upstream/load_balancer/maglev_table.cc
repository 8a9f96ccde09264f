#include "source/upstream/load_balancer/maglev_table.h"

#include <algorithm>
#include <limits>
#include <numeric>

#include "source/upstream/load_balancer/xxhash64.h"

namespace modgate::upstream {
namespace {

constexpr uint32_t kFree = std::numeric_limits<uint32_t>::max();

struct Builder {
  uint32_t index;
  uint64_t offset;
  uint64_t skip;
  double weight;
  double target_weight = 0.0;
  uint64_t next = 0;
};

}  // namespace

MaglevTable::MaglevTable(const std::vector<HashTableEntry>& entries, uint64_t table_size) {
  if (entries.empty() || table_size < 2) {
    return;
  }
  // Hosts claim slots in turn, and earlier turns win contested slots: take
  // turns in key order so the table does not depend on the host list's order.
  std::vector<uint32_t> order(entries.size());
  std::iota(order.begin(), order.end(), 0);
  std::sort(order.begin(), order.end(),
            [&](uint32_t a, uint32_t b) { return entries[a].key < entries[b].key; });

  std::vector<Builder> builders;
  builders.reserve(entries.size());
  double max_weight = 0.0;
  for (const uint32_t index : order) {
    const HashTableEntry& entry = entries[index];
    builders.push_back(Builder{index, xxHash64(entry.key, 0) % table_size,
                               xxHash64(entry.key, 1) % (table_size - 1) + 1,
                               entry.normalized_weight});
    max_weight = std::max(max_weight, entry.normalized_weight);
  }

  table_.assign(table_size, kFree);
  uint64_t filled = 0;
  for (uint64_t round = 1; filled < table_size; ++round) {
    for (size_t i = 0; i < builders.size() && filled < table_size; ++i) {
      Builder& b = builders[i];
      // A host of the maximum weight claims a slot every round; one of a
      // third of it, every third round.
      if (static_cast<double>(round) * b.weight < b.target_weight) {
        continue;
      }
      b.target_weight += max_weight;
      uint64_t slot = (b.offset + b.skip * b.next) % table_size;
      while (table_[slot] != kFree) {
        ++b.next;
        slot = (b.offset + b.skip * b.next) % table_size;
      }
      table_[slot] = b.index;
      ++b.next;
      ++filled;
    }
  }
}

uint32_t MaglevTable::chooseIndex(uint64_t hash, uint32_t attempt) const {
  if (attempt > 0) {
    hash ^= ~uint64_t{0} - attempt + 1;
  }
  return table_[hash % table_.size()];
}

uint64_t MaglevTable::slotsOf(uint32_t index) const {
  return std::count(table_.begin(), table_.end(), index);
}

}  // namespace modgate::upstream
