#pragma once

#include <cstdint>
#include <vector>

#include "source/upstream/load_balancer/host.h"

namespace modgate::upstream {

// Consistent hashing with bounded loads (Mirrokni, Thorup, Zadimoghaddam,
// 2016), as Envoy applies it with `hash_balance_factor`. A host of normalized
// weight w may hold ceil(w * ceil((cluster_active + 1) * factor / 100)) (at
// least 1) active requests; the hash's own host is kept unless it holds more.
// Otherwise the other hosts are tried in a pseudo-random order seeded by the
// hash (random jumps rather than the next host on the ring, which would pile
// one host's overflow onto its neighbour), and the first within its bound
// wins. If every host is over, the least overloaded one is chosen.
//
// The same hash and the same loads give the same host.
class BoundedLoad {
 public:
  // `hash_balance_factor` >= 100.
  explicit BoundedLoad(uint32_t hash_balance_factor) : factor_(hash_balance_factor) {}

  // `primary` is the table's choice among `hosts` (weights in
  // `normalized_weights`); `cluster_active` the requests in flight across the
  // cluster. `scratch` is caller-owned working space, so that a reused one
  // spares an allocation per pick.
  uint32_t choose(uint32_t primary, uint64_t hash, const std::vector<HostSharedPtr>& hosts,
                  const std::vector<double>& normalized_weights, uint64_t cluster_active,
                  std::vector<uint32_t>& scratch) const;

 private:
  // Active requests over capacity: above 1 means overloaded.
  double overloadFactor(const Host& host, double weight, uint64_t cluster_active) const;

  const uint32_t factor_;
};

}  // namespace modgate::upstream
