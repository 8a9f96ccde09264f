#include "source/upstream/resource_limit.h"

namespace modgate::upstream {

bool ResourceLimit::tryAcquire() {
  uint64_t current = count_.load(std::memory_order_relaxed);
  while (current < max_) {
    if (count_.compare_exchange_weak(current, current + 1, std::memory_order_relaxed)) return true;
  }
  if (on_overflow_) on_overflow_();
  return false;
}

void ResourceHandle::release() {
  if (released_) return;
  released_ = true;
  if (first_ != nullptr) first_->release();
  if (second_ != nullptr) second_->release();
  if (on_release_) {
    // Moved out first, so that a release() from inside it is a no-op.
    auto cb = std::move(on_release_);
    on_release_ = nullptr;
    cb();
  }
}

ResourceHandlePtr tryAcquireBoth(const ResourceLimitSharedPtr& first,
                                 const ResourceLimitSharedPtr& second,
                                 std::function<void()> on_release) {
  if (first != nullptr && !first->tryAcquire()) return nullptr;
  if (second != nullptr && !second->tryAcquire()) {
    if (first != nullptr) first->release();
    return nullptr;
  }
  return std::make_unique<ResourceHandle>(first, second, std::move(on_release));
}

ResourceHandlePtr forceAcquireBoth(const ResourceLimitSharedPtr& first,
                                   const ResourceLimitSharedPtr& second,
                                   std::function<void()> on_release) {
  if (first != nullptr) first->forceAcquire();
  if (second != nullptr) second->forceAcquire();
  return std::make_unique<ResourceHandle>(first, second, std::move(on_release));
}

}  // namespace modgate::upstream
