#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <utility>

namespace modgate::upstream {

// One upstream endpoint as the load balancers see it.
//
// A Host outlives the snapshots that list it: the main thread keeps one Host
// per endpoint across updates, so that requests still in flight on a balancer
// built from an old snapshot and picks made from a new one count against the
// same `active_requests`.
struct Host {
  explicit Host(std::string name, uint32_t weight = 1, uint32_t priority = 0,
                std::shared_ptr<void> user_data = nullptr)
      : name(std::move(name)),
        weight(weight),
        priority(priority),
        user_data(std::move(user_data)) {}

  Host(const Host&) = delete;
  Host& operator=(const Host&) = delete;

  // "address:port" (or a hostname). Ring hash and Maglev hash it to place the
  // host, so it must be unique within a cluster and stable across updates.
  const std::string name;

  // Load-balancing weight, 1..128; 0 counts as 1. Atomic because the main
  // thread may change it in place before it publishes the next snapshot while
  // workers still build balancers from the previous one. Balancers read it
  // once, when they are built, so a change takes effect with the next
  // snapshot.
  std::atomic<uint32_t> weight;

  // The priority the endpoint was configured with. Only buildHostSetSnapshot()
  // reads it; balancers follow the snapshot's levels.
  std::atomic<uint32_t> priority;

  // Requests in flight to this host across all workers: the caller increments
  // it when a request starts on the host and decrements it when the request
  // ends. Least request and bounded-load hashing read it at pick time.
  std::atomic<uint32_t> active_requests{0};

  // The caller's endpoint data (its connection pool, say), opaque here.
  const std::shared_ptr<void> user_data;
};

using HostSharedPtr = std::shared_ptr<Host>;

}  // namespace modgate::upstream
