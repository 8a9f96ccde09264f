#pragma once

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <list>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>

#include "source/canary/shadow_listener.h"
#include "source/canary/time.h"

namespace modgate::canary {

struct ShadowComparatorOptions {
  // Pending halves kept at most; the oldest goes first when full.
  size_t max_entries = 10000;
  // A half whose other half has not come within this long is dropped: the
  // shadow timed out or failed, which the canary's window counts already.
  std::chrono::milliseconds ttl{60000};
  // Independently locked parts of the table, so that workers finishing
  // bodies at once rarely wait for each other.
  size_t shards = 16;
};

// Pairs the SHA-256 of the body served to the client with the SHA-256 of
// the canary's body for the same artifact, in whichever order they finish
// (the client is never made to wait for the shadow), and reports each pair
// once to the listener. Thread-safe. Only shadowed requests come here, a
// small share of traffic off the client's path, so a mutex per shard is
// cheap enough; outcome counting on every request stays lock-free elsewhere.
//
// Pairs are keyed by artifact alone: two shadowed requests for the same
// artifact in flight at once share one entry, and the later half of a side
// replaces the earlier. Artifacts are immutable, so any served body is as
// good as another, and a leftover half simply expires.
class ShadowComparator {
 public:
  enum class Report {
    // Stored; waiting for the other half.
    kPending,
    kMatched,
    kMismatched,
  };

  // `listener` must outlive the comparator.
  ShadowComparator(ShadowComparatorOptions options, ShadowListener& listener);

  Report reportServed(const ArtifactKey& key, const Sha256Digest& digest, MonotonicTime now);
  Report reportShadow(const ArtifactKey& key, const Sha256Digest& digest, MonotonicTime now);

  // Pending halves now (after expiring those past their ttl as of `now`).
  size_t pending(MonotonicTime now);
  // Halves dropped unpaired: pushed out by max_entries, or past their ttl.
  uint64_t evicted() const { return evicted_.load(std::memory_order_relaxed); }
  uint64_t expired() const { return expired_.load(std::memory_order_relaxed); }

 private:
  struct Entry {
    std::string id;
    ArtifactKey key;
    std::optional<Sha256Digest> served;
    std::optional<Sha256Digest> shadow;
    MonotonicTime inserted;
  };
  // Oldest first, so expiry and eviction both take from the front.
  using EntryList = std::list<Entry>;
  struct Shard {
    std::mutex mutex;
    EntryList entries;
    std::unordered_map<std::string, EntryList::iterator> index;
  };

  Report report(const ArtifactKey& key, const Sha256Digest& digest, bool served, MonotonicTime now);
  void expireLocked(Shard& shard, MonotonicTime now);

  const ShadowComparatorOptions options_;
  const size_t shard_capacity_;
  ShadowListener& listener_;
  std::unique_ptr<Shard[]> shards_;
  std::atomic<uint64_t> evicted_{0};
  std::atomic<uint64_t> expired_{0};
};

}  // namespace modgate::canary
