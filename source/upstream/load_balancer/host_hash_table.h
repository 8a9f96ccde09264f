#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

namespace modgate::upstream {

// One host as a consistent-hash table sees it.
struct HashTableEntry {
  // The host's stable name (Host::name): what places it in the table.
  std::string_view key;
  // The host's share of its level's weight; the entries' weights sum to 1.
  double normalized_weight;
};

// A consistent-hash lookup structure (a ring or a Maglev table) over a list
// of entries, built once per snapshot and read concurrently by all workers.
// Tables are functions of the set of keys and weights, not of their order, so
// that a reordered host list changes nothing.
class HostHashTable {
 public:
  virtual ~HostHashTable() = default;

  // The index, into the entries the table was built from, of the host for
  // `hash`. attempt > 0 asks for an alternative for a retry: deterministic
  // for (hash, attempt), usually but not always a different host. The table
  // must have been built from at least one entry.
  virtual uint32_t chooseIndex(uint64_t hash, uint32_t attempt) const = 0;
};

}  // namespace modgate::upstream
