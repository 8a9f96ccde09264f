#pragma once

#include <cstdint>
#include <vector>

#include "source/upstream/load_balancer/host_hash_table.h"

namespace modgate::upstream {

// Envoy's ring hash (Ketama-style). Each host puts points on a 64-bit ring at
// xxHash64("<key>_<i>") for i = 0, 1, ...; a hash belongs to the host owning
// the first point at or after it, wrapping around.
//
// Ring size, as Envoy sizes it: scale the weights so that the lightest host
// gets a whole number of points and the ring has at least minimum_ring_size
// of them, but no more than maximum_ring_size; hosts get scale * weight
// points, fractions carried over from one host to the next.
//
// Keys move only to or from a host that joins or leaves while the other
// hosts' point counts stay the same. They do not when the host count changes
// the scale: going from 3 to 4 equal hosts at the default minimum of 1024
// cuts each old host from 342 to 256 points, so some keys also move between
// old hosts (about a third of all keys move, where 1/4 is the ideal).
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
