#include "source/upstream/load_balancer/load_balancer_base.h"

#include <optional>
#include <utility>

namespace modgate::upstream {

LoadBalancerBase::LoadBalancerBase(std::shared_ptr<const PreparedPrioritySet> prepared,
                                   uint64_t seed, Selection selection)
    : prepared_(std::move(prepared)), random_(seed), selection_(selection) {}

HostSharedPtr LoadBalancerBase::pickOnce(uint32_t priority, uint64_t hash, uint32_t attempt) {
  // Empty only when panic is disabled and the level has no healthy host.
  if (prepared_->levels()[priority].hosts.empty()) {
    return nullptr;
  }
  return pickFromLevel(priority, hash, attempt);
}

HostSharedPtr LoadBalancerBase::chooseHost(LoadBalancerContext* context) {
  const PriorityLoad& load = prepared_->load();
  if (load.percent.empty()) {
    return nullptr;
  }
  const uint32_t max_attempts = context != nullptr ? context->hostSelectionRetryCount() + 1 : 1;
  HostSharedPtr host;

  if (selection_ == Selection::kHashed) {
    const std::optional<uint64_t> key = context != nullptr ? context->hashKey() : std::nullopt;
    const uint64_t hash = key.has_value() ? *key : random_.next();
    const uint32_t priority = choosePriority(load, hash);
    for (uint32_t attempt = 0; attempt < max_attempts; ++attempt) {
      host = pickOnce(priority, hash, attempt);
      if (host == nullptr || context == nullptr || !context->shouldSelectAnotherHost(*host)) {
        return host;
      }
    }
    return host;
  }

  for (uint32_t attempt = 0; attempt < max_attempts; ++attempt) {
    host = pickOnce(choosePriority(load, random_.next()), 0, attempt);
    if (host == nullptr || context == nullptr || !context->shouldSelectAnotherHost(*host)) {
      return host;
    }
  }
  return host;
}

}  // namespace modgate::upstream
