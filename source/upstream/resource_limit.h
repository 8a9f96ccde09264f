#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>

namespace modgate::upstream {

// A count of something in use across threads, with a cap: one of a
// cluster's circuit breakers (Envoy's ResourceManager resources). Lock-free:
// every worker counts into the same atomic.
class ResourceLimit {
 public:
  // `on_overflow` (optional) runs, on the refused caller's thread, each time
  // tryAcquire() refuses; it feeds an overflow counter.
  explicit ResourceLimit(uint64_t max, std::function<void()> on_overflow = nullptr)
      : max_(max), on_overflow_(std::move(on_overflow)) {}

  // Takes one unit if fewer than max() are in use.
  bool tryAcquire();
  // Takes one unit whatever the count (see ConnectionPool: a pool without
  // any connection may always open one).
  void forceAcquire() { count_.fetch_add(1, std::memory_order_relaxed); }
  void release() { count_.fetch_sub(1, std::memory_order_relaxed); }

  uint64_t count() const { return count_.load(std::memory_order_relaxed); }
  uint64_t max() const { return max_; }

 private:
  std::atomic<uint64_t> count_{0};
  const uint64_t max_;
  const std::function<void()> on_overflow_;
};
using ResourceLimitSharedPtr = std::shared_ptr<ResourceLimit>;

// The circuit breakers an upstream request is subject to. Null members are
// unlimited. Shared (not copied) between the requests of every worker.
struct ConnectionLimits {
  // Connections, open or being opened, to every endpoint of the cluster.
  ResourceLimitSharedPtr cluster_connections;
  // Connections, open or being opened, to the one endpoint asked.
  ResourceLimitSharedPtr host_connections;
  // Requests waiting for a connection because one of the above is full.
  ResourceLimitSharedPtr pending_requests;

  bool limitsConnections() const {
    return cluster_connections != nullptr || host_connections != nullptr;
  }
};

// Units of one or more ResourceLimits held by one owner (a connection, a
// waiting request): given back once, on release() or destruction,
// whichever comes first; then `on_release` runs. Not thread-safe itself:
// one owner on one thread.
class ResourceHandle {
 public:
  ResourceHandle(ResourceLimitSharedPtr first, ResourceLimitSharedPtr second,
                 std::function<void()> on_release = nullptr)
      : first_(std::move(first)), second_(std::move(second)), on_release_(std::move(on_release)) {}
  ~ResourceHandle() { release(); }
  ResourceHandle(const ResourceHandle&) = delete;
  ResourceHandle& operator=(const ResourceHandle&) = delete;

  void release();

 private:
  ResourceLimitSharedPtr first_;
  ResourceLimitSharedPtr second_;
  std::function<void()> on_release_;
  bool released_ = false;
};
using ResourceHandlePtr = std::unique_ptr<ResourceHandle>;

// Takes one unit of each non-null limit, or none: on a refusal the units
// already taken are given back. nullptr when refused; a handle (maybe over
// no limit at all) otherwise.
ResourceHandlePtr tryAcquireBoth(const ResourceLimitSharedPtr& first,
                                 const ResourceLimitSharedPtr& second,
                                 std::function<void()> on_release = nullptr);
// Takes one unit of each non-null limit whatever their counts.
ResourceHandlePtr forceAcquireBoth(const ResourceLimitSharedPtr& first,
                                   const ResourceLimitSharedPtr& second,
                                   std::function<void()> on_release = nullptr);

}  // namespace modgate::upstream
