#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "source/cache/cache_kind.h"
#include "source/cache/entry.h"
#include "source/cache/entry_writer.h"
#include "source/common/event/dispatcher.h"

namespace modgate::cache {

// One kind's share of the cache (see cache_kind.h).
struct KindStats {
  uint64_t entries = 0;
  uint64_t bytes = 0;
  uint64_t hits = 0;    // lookups that found an entry (fresh or not)
  uint64_t misses = 0;  // lookups that found none
  uint64_t evictions = 0;
};

struct CacheStats {
  uint64_t entries = 0;
  uint64_t bytes = 0;  // sum of entry file sizes, what the size cap limits
  uint64_t hits = 0;
  uint64_t misses = 0;
  uint64_t evictions = 0;
  uint64_t hot_entries = 0;
  uint64_t hot_bytes = 0;  // bodies held in memory
  std::array<KindStats, kCacheKinds> kinds{};
};

// How much one entry is used, for GET /cache/modules: its lookups that found
// it since it entered the index in this process (a newer version of the key
// keeps the count; a restart starts from 0).
struct EntryUsage {
  std::string key;
  uint64_t file_size = 0;
  uint64_t hits = 0;
};

// Called on the `reply_to` dispatcher of openBody(): `fd` (owned by the
// callee, positioned at the body) or -1 and why.
using OpenBodyCallback = std::function<void(int fd, std::string error)>;

// The process-wide response cache, shared by all workers. Every method is
// thread-safe and none blocks on disk: lookups use an in-memory index, file
// work runs on the thread pool.
class Cache {
 public:
  virtual ~Cache() = default;

  // The entry for `key`, or nullptr. In-memory only; marks the entry as
  // recently used and may start loading a small body into memory for next
  // time. Freshness is the caller's call: Entry::fresh(now).
  virtual std::shared_ptr<const Entry> lookup(std::string_view key) = 0;
  // The entry for `key`, or nullptr, as lookup() finds it but without
  // counting a hit or miss or touching recency: for a fill the proxy starts
  // on its own (the .mod a .info miss fetches ahead), which is no client's
  // use of the entry.
  virtual std::shared_ptr<const Entry> peek(std::string_view key) const = 0;

  // Opens `entry`'s file on the thread pool and posts the fd, positioned at
  // entry->body_offset, to `reply_to`. When the file is gone (evicted,
  // deleted by hand) the callback gets -1 and the entry leaves the index;
  // when a newer version replaced it, -1 too ("replaced"): look up again.
  virtual void openBody(std::shared_ptr<const Entry> entry, event::Dispatcher& reply_to,
                        OpenBodyCallback cb) = 0;

  // A writer for a new version of `key`, or nullptr if `key` is not a valid
  // cache key. The entry becomes visible on commit.
  virtual EntryWriterPtr beginWrite(std::string_view key) = 0;

  // Stores a small body (list, @latest, negative answer) through the same
  // atomic path as beginWrite(); the body is kept in memory when it fits.
  // `done` runs on a thread-pool thread.
  virtual void insertSmall(std::string_view key, EntryMeta meta, std::string body,
                           CommitCallback done) = 0;

  // Stores `entry`'s body again under its key with `meta` (an expired list
  // or @latest the upstream confirmed unchanged with a 304): the body is
  // taken from memory or read back from the entry file on the thread pool,
  // then committed through the same atomic path as beginWrite(). `done`
  // runs on a thread-pool thread; it gets an error when the file is gone.
  virtual void refresh(std::shared_ptr<const Entry> entry, EntryMeta meta, CommitCallback done) = 0;

  // Forgets `key` now and deletes its file on the thread pool.
  virtual void remove(std::string_view key) = 0;

  virtual CacheStats stats() const = 0;

  // Every entry in the index, for maintenance (the admin's cache report and
  // purge, verify-cache): a copy of the index taken under its lock,
  // O(entries). Never on a worker's request path.
  virtual std::vector<std::shared_ptr<const Entry>> entries() const = 0;
  // Every key in the index with its size and hit count; the same kind of
  // copy as entries(), for the admin thread only.
  virtual std::vector<EntryUsage> usage() const = 0;
  // Where the cache lives (for disk-free reports).
  virtual const std::string& root() const = 0;
};
using CachePtr = std::unique_ptr<Cache>;

}  // namespace modgate::cache
