#pragma once

#include <cstdint>

namespace modgate::upstream {

// SplitMix64 (Steele, Lea and Flood, 2014): a single 64-bit word of state,
// full period, passes BigCrush. Load balancing needs speed, a per-worker seed
// and reproducibility in tests, not unpredictability: not cryptographic.
class Random {
 public:
  explicit Random(uint64_t seed) : state_(seed) {}

  uint64_t next() {
    uint64_t z = (state_ += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
  }

  // Uniform in [0, n) for n > 0, by Lemire's multiply-high: no division, and
  // a bias of at most n / 2^64, far below anything load balancing can see.
  uint64_t uniform(uint64_t n) {
    return static_cast<uint64_t>((static_cast<unsigned __int128>(next()) * n) >> 64);
  }

 private:
  uint64_t state_;
};

}  // namespace modgate::upstream
