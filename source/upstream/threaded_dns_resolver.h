#pragma once

#include <atomic>
#include <chrono>
#include <list>
#include <memory>
#include <mutex>

#include "absl/container/flat_hash_map.h"
#include "source/common/event/dispatcher.h"
#include "source/upstream/dns_resolver.h"

namespace modgate::upstream {

// libevent_core has no evdns, so names are resolved with getaddrinfo() on a
// short-lived thread per host name (concurrent queries for one name share
// it) and the answer is posted back to the dispatcher, which never blocks.
// Answers are cached for `cache_ttl`; failures are not cached.
//
// Destroying the resolver never waits for a lookup in progress: the lookup
// thread finishes on its own and its answer is dropped.
class ThreadedDnsResolver : public DnsResolver {
 public:
  explicit ThreadedDnsResolver(event::Dispatcher& dispatcher,
                               std::chrono::milliseconds cache_ttl = std::chrono::seconds(30));
  ~ThreadedDnsResolver() override;

  Query* resolve(const std::string& host, uint16_t port, ResolveCb cb) override;

  // getaddrinfo() calls started (for tests of caching and sharing).
  uint64_t lookupsStarted() const { return lookups_started_; }

 private:
  struct PendingQuery : public Query {
    void cancel() override { cb = nullptr; }
    uint16_t port = 0;
    ResolveCb cb;
  };
  struct CacheEntry {
    std::vector<network::Address> addresses;  // port 0
    event::MonotonicTime expiry;
  };
  // Reaches the lookup threads; `dispatcher` is cleared under `lock` when the
  // resolver goes away, `resolver` is only touched on the dispatcher thread.
  struct Shared {
    std::mutex lock;
    event::Dispatcher* dispatcher;
    ThreadedDnsResolver* resolver;
  };
  using Answer = absl::StatusOr<std::vector<network::Address>>;

  static Answer lookup(const std::string& host);
  void onResolved(const std::string& host, Answer answer);
  static Answer withPort(const Answer& answer, uint16_t port);

  event::Dispatcher& dispatcher_;
  const std::chrono::milliseconds cache_ttl_;
  std::shared_ptr<Shared> shared_;
  absl::flat_hash_map<std::string, CacheEntry> cache_;
  absl::flat_hash_map<std::string, std::list<std::unique_ptr<PendingQuery>>> pending_;
  uint64_t lookups_started_ = 0;
};

}  // namespace modgate::upstream
