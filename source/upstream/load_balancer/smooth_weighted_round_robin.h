#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace modgate::upstream {

// nginx's smooth weighted round robin. Each pick adds every entry's weight to
// its running score, takes the highest score (the first on ties) and subtracts
// the total weight from it. Over any window of total-weight picks each entry
// is chosen exactly weight times, interleaved rather than in bursts:
// weights 5, 1, 1 give a a b a c a a.
//
// O(entries) per pick.
class SmoothWeightedRoundRobin {
 public:
  // Weights must be positive; entries are addressed by index.
  explicit SmoothWeightedRoundRobin(std::vector<uint32_t> weights);

  // The next index; `weights` must not be empty.
  size_t pick();

 private:
  const std::vector<uint32_t> weights_;
  const int64_t total_weight_;
  std::vector<int64_t> current_;
};

}  // namespace modgate::upstream
