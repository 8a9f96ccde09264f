#pragma once

#include <cstdint>
#include <vector>

#include "source/upstream/load_balancer/host_hash_table.h"

namespace modgate::upstream {

// Envoy's ring hash (Ketama-style). Each host puts points on a 64-bit ring at
// xxHash64("<key>_<i>") for i = 0, 1, ...; a hash belongs to the host owning
// the first point at or after it, wrapping around.
//
// Ring size: the lightest host gets minimum_ring_size points and every host
// points in proportion to its weight (rounded), so that a host's points
// depend only on its own weight relative to the lightest, not on how many
// hosts there are. A host that joins or leaves then moves only the keys it
// takes or gives up: 1/N of them on average, the consistent-hashing ideal.
// (Envoy instead spreads a fixed minimum_ring_size over all hosts, so adding
// a 4th host to 3 cuts each old host from 342 to 256 points and moves keys
// between old hosts too: about a third of all keys move instead of a
// quarter.) The ring thus has at least minimum_ring_size points, as in
// Envoy; when it would exceed maximum_ring_size every count is scaled down
// to fit, and then a change in the host set moves more keys again.
class HashRing : public HostHashTable {
 public:
  HashRing(const std::vector<HashTableEntry>& entries, uint64_t minimum_ring_size,
           uint64_t maximum_ring_size);

  // attempt > 0 steps `attempt` points further round the ring, as Envoy does.
  uint32_t chooseIndex(uint64_t hash, uint32_t attempt) const override;

  size_t size() const { return ring_.size(); }

 private:
  struct Point {
    uint64_t hash;
    uint32_t index;
  };
  std::vector<Point> ring_;
};

}  // namespace modgate::upstream
