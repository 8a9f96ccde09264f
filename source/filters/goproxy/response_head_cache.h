#pragma once

#include <cstddef>
#include <cstdint>
#include <list>
#include <memory>

#include "absl/container/flat_hash_map.h"
#include "source/cache/entry.h"
#include "source/common/http/header_map.h"
#include "source/common/stats/stats.h"

namespace modgate::filters::goproxy {

// A worker's precomputed response fields for small cached answers: the
// content-type, content-length, x-cache, accept-ranges, validators and
// cache-control of a full 200 HIT from an entry whose body is in memory
// (.info, .mod, lists), built once per entry instead of for every request.
// Building them (a date to format, a string per field) was about a tenth of
// a warm h2c .info request's CPU.
//
// Keyed by the Entry object itself. The cache never changes an Entry it
// handed out (a newer version or a hot-body change installs a new object),
// so a replaced entry is simply a different key, and a slot whose entry is
// gone (evicted, replaced) is never matched again: each slot holds a weak
// reference to its entry and matches only that same object, whatever
// address a newer one gets. Such dead slots age out.
//
// Bounded by bytes (names, values and a fixed overhead per slot), least
// recently used out, counted in modgate_response_head_cache_*. Worker
// thread only, no locks.
class ResponseHeadCache {
 public:
  // What a slot costs besides its fields: the map and list nodes, the
  // HeaderMap, and the entry's storage a weak reference may keep allocated
  // (make_shared) after the cache let the entry go.
  static constexpr size_t kSlotOverheadBytes = 512;

  // `stats` may be null (tests); the metrics are shared by all workers.
  ResponseHeadCache(size_t max_bytes, stats::Stats* stats);
  ~ResponseHeadCache();
  ResponseHeadCache(const ResponseHeadCache&) = delete;
  ResponseHeadCache& operator=(const ResponseHeadCache&) = delete;

  // The fields stored for `entry` answered with cache-control for an
  // immutable version or not, or nullptr (counted as a miss).
  std::shared_ptr<const http::HeaderMap> find(const std::shared_ptr<const cache::Entry>& entry,
                                              bool immutable);
  // Stores `fields` for `entry`, evicting the least recently used slots
  // beyond the byte bound. Fields larger than the whole bound are not kept.
  void insert(const std::shared_ptr<const cache::Entry>& entry, bool immutable,
              std::shared_ptr<const http::HeaderMap> fields);

  size_t size() const { return index_.size(); }
  size_t bytes() const { return bytes_; }

 private:
  struct Key {
    const cache::Entry* entry;
    bool immutable;
    bool operator==(const Key&) const = default;
    template <typename H>
    friend H AbslHashValue(H h, const Key& key) {
      return H::combine(std::move(h), key.entry, key.immutable);
    }
  };
  struct Slot {
    Key key;
    // Tells the slot's own entry from a newer one at a reused address.
    std::weak_ptr<const cache::Entry> entry;
    std::shared_ptr<const http::HeaderMap> fields;
    size_t bytes;
  };
  using Lru = std::list<Slot>;  // most recently used first

  void erase(Lru::iterator slot);

  const size_t max_bytes_;
  stats::Stats* const stats_;
  size_t bytes_ = 0;
  Lru lru_;
  absl::flat_hash_map<Key, Lru::iterator> index_;
};

}  // namespace modgate::filters::goproxy
