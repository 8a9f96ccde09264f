#pragma once

#include <cstdint>
#include <vector>

#include "source/upstream/load_balancer/host_hash_table.h"

namespace modgate::upstream {

// Maglev consistent hashing (Eisenbud et al., NSDI 2016), weighted as Envoy
// weights it. Each host walks its own permutation of the table's slots,
// offset = xxHash64(key, seed 0) % size and skip = xxHash64(key, seed 1) %
// (size - 1) + 1, and the hosts take turns claiming their next free slot until
// the table is full; a host of weight w takes a turn in w / max weight of the
// rounds, so slot counts follow weights. A hash maps to slot hash % size.
//
// Lookups are O(1) and balance is near perfect. The price: when hosts come
// or go, contested slots are re-won by different hosts, so a few keys also
// move between hosts that stayed (more than the ideal 1/n overall).
class MaglevTable : public HostHashTable {
 public:
  // `table_size` must be prime, so every skip walks every slot.
  MaglevTable(const std::vector<HashTableEntry>& entries, uint64_t table_size);

  // attempt > 0 flips most bits of the hash, as Envoy does, so that retries
  // spread over the table rather than probing neighbours.
  uint32_t chooseIndex(uint64_t hash, uint32_t attempt) const override;

  // Slots held by entry `index`; for tests and diagnostics. O(table size).
  uint64_t slotsOf(uint32_t index) const;

 private:
  std::vector<uint32_t> table_;
};

}  // namespace modgate::upstream
