#include "source/upstream/load_balancer/smooth_weighted_round_robin.h"

#include <numeric>
#include <utility>

namespace modgate::upstream {

SmoothWeightedRoundRobin::SmoothWeightedRoundRobin(std::vector<uint32_t> weights)
    : weights_(std::move(weights)),
      total_weight_(std::accumulate(weights_.begin(), weights_.end(), int64_t{0})),
      current_(weights_.size(), 0) {}

size_t SmoothWeightedRoundRobin::pick() {
  size_t best = 0;
  for (size_t i = 0; i < weights_.size(); ++i) {
    current_[i] += weights_[i];
    if (current_[i] > current_[best]) {
      best = i;
    }
  }
  current_[best] -= total_weight_;
  return best;
}

}  // namespace modgate::upstream
