#include "source/upstream/load_balancer/lb_options.h"

#include <cmath>

#include "absl/strings/str_cat.h"

namespace modgate::upstream {
namespace {

constexpr uint64_t kMaxRingSize = 8 * 1024 * 1024;
constexpr uint64_t kMaxMaglevTableSize = 5000011;

bool isPrime(uint64_t n) {
  if (n < 2) {
    return false;
  }
  for (uint64_t d = 2; d * d <= n; ++d) {
    if (n % d == 0) {
      return false;
    }
  }
  return true;
}

}  // namespace

absl::Status validateLbOptions(LbPolicy policy, const LbOptions& options) {
  switch (policy) {
    case LbPolicy::kLeastRequest:
      if (options.least_request.choice_count < 2) {
        return absl::InvalidArgumentError("least_request.choice_count must be at least 2");
      }
      if (!(options.least_request.active_request_bias >= 0.0) ||
          std::isinf(options.least_request.active_request_bias)) {
        return absl::InvalidArgumentError(
            "least_request.active_request_bias must be a finite number >= 0");
      }
      return absl::OkStatus();
    case LbPolicy::kRingHash:
      if (options.ring_hash.minimum_ring_size == 0 ||
          options.ring_hash.minimum_ring_size > kMaxRingSize) {
        return absl::InvalidArgumentError(
            absl::StrCat("ring_hash.minimum_ring_size must be in [1, ", kMaxRingSize, "]"));
      }
      if (options.ring_hash.maximum_ring_size < options.ring_hash.minimum_ring_size ||
          options.ring_hash.maximum_ring_size > kMaxRingSize) {
        return absl::InvalidArgumentError(absl::StrCat(
            "ring_hash.maximum_ring_size must be in [minimum_ring_size, ", kMaxRingSize, "]"));
      }
      break;
    case LbPolicy::kMaglev:
      if (options.maglev.table_size > kMaxMaglevTableSize || !isPrime(options.maglev.table_size)) {
        return absl::InvalidArgumentError(
            absl::StrCat("maglev.table_size must be a prime <= ", kMaxMaglevTableSize));
      }
      break;
    case LbPolicy::kRoundRobin:
    case LbPolicy::kRandom:
      return absl::OkStatus();
  }
  if (options.hash_balance_factor != 0 && options.hash_balance_factor < 100) {
    return absl::InvalidArgumentError("hash_balance_factor must be 0 (disabled) or at least 100");
  }
  return absl::OkStatus();
}

}  // namespace modgate::upstream
