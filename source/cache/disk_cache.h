#pragma once

#include <array>
#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <list>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "source/cache/cache.h"
#include "source/cache/disk_entry_writer.h"
#include "source/cache/file_util.h"
#include "source/common/common/thread_pool.h"

namespace modgate::cache {

struct DiskCacheOptions {
  // Root directory; entries live in <dir>/v1/<key>, temp files in <dir>/tmp.
  std::string dir;
  // Size cap over all entry files; least recently used entries go first.
  uint64_t max_bytes = uint64_t{10} << 30;
  // Bodies up to this size are kept in memory ("hot"), within the total.
  uint64_t hot_object_max_bytes = 64 << 10;
  uint64_t hot_total_max_bytes = 64 << 20;
  // Off only for tests and throwaway caches: commits then survive a process
  // crash but not a power loss.
  bool fsync = true;
};

// The Cache on a local directory: one file per key (see entry_file.h), an
// in-memory index with LRU order, small bodies in memory, all file work on
// the thread pool. One DiskCache per directory (enforced with flock).
//
// Locking: `mu_` guards the index and is never held across I/O, so lookups
// from dispatchers do not wait for the disk. `fs_mu_` (taken before `mu_`,
// only on the thread pool) serializes renames into v1/ with deletions there,
// so that a deletion never removes a newer version that took the same name.
//
// The destructor waits for the cache's queued thread-pool work. Writers must
// be gone (committed or aborted) before the cache is destroyed, and the pool
// must outlive the cache.
class DiskCache : public Cache, private WriterHost {
 public:
  // Creates <dir>/v1 and <dir>/tmp, deletes leftover temp files, and rebuilds
  // the index from the entry files (prefix and meta only); files that are not
  // complete, valid entries are deleted. Blocking: call at startup.
  static absl::StatusOr<std::unique_ptr<Cache>> open(const DiskCacheOptions& options,
                                                     common::ThreadPool& pool);
  ~DiskCache() override;

  // Cache
  std::shared_ptr<const Entry> lookup(std::string_view key) override;
  std::shared_ptr<const Entry> peek(std::string_view key) const override;
  void openBody(std::shared_ptr<const Entry> entry, event::Dispatcher& reply_to,
                OpenBodyCallback cb) override;
  EntryWriterPtr beginWrite(std::string_view key) override;
  void insertSmall(std::string_view key, EntryMeta meta, std::string body,
                   CommitCallback done) override;
  void refresh(std::shared_ptr<const Entry> entry, EntryMeta meta, CommitCallback done) override;
  void remove(std::string_view key) override;
  CacheStats stats() const override;
  std::vector<std::shared_ptr<const Entry>> entries() const override;
  std::vector<EntryUsage> usage() const override;
  const std::string& root() const override { return root_; }

 private:
  struct Node {
    std::shared_ptr<const Entry> entry;
    std::list<Node*>::iterator lru_it;
    std::list<Node*>::iterator hot_it;  // valid when entry->hot_body is set
    bool loading = false;               // a hot-body load is queued
    uint64_t hits = 0;                  // lookups that found this key
  };
  // A file to delete once it has left the index.
  struct Victim {
    std::string path;
    FileId file_id;
  };

  DiskCache(const DiskCacheOptions& options, std::string root, common::ThreadPool& pool);
  absl::Status scan();

  // WriterHost
  void runBlocking(std::function<void()> work) override;
  bool wantsHotBody(uint64_t body_size) const override;
  bool fsyncEnabled() const override { return options_.fsync; }
  absl::StatusOr<std::shared_ptr<const Entry>> install(PreparedEntry prepared) override;

  void loadHotBody(std::shared_ptr<const Entry> entry);
  // Drops `entry` from the index if it is still the current version.
  void forgetIfCurrent(const Entry& entry);

  Node* insertLocked(std::shared_ptr<const Entry> entry) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  Victim removeLocked(Node* node) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void evictLocked(const Node* keep, std::vector<Victim>& victims)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void setHotLocked(Node& node, std::shared_ptr<const std::string> body)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void dropHotLocked(Node& node) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const DiskCacheOptions options_;
  const std::string root_;         // absolute, no trailing slash
  const std::string entries_dir_;  // <root>/v1
  const std::string temp_dir_;     // <root>/tmp
  common::ThreadPool& pool_;
  UniqueFd lock_fd_;

  mutable std::mutex mu_;
  absl::flat_hash_map<std::string, std::unique_ptr<Node>> index_ ABSL_GUARDED_BY(mu_);
  std::list<Node*> lru_ ABSL_GUARDED_BY(mu_);      // front: most recently used
  std::list<Node*> hot_lru_ ABSL_GUARDED_BY(mu_);  // entries with a body in memory
  uint64_t bytes_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t hot_bytes_ ABSL_GUARDED_BY(mu_) = 0;
  // Entries and bytes by kind (KindOfKey), kept with entries_ and bytes_.
  std::array<uint64_t, kCacheKinds> kind_entries_ ABSL_GUARDED_BY(mu_){};
  std::array<uint64_t, kCacheKinds> kind_bytes_ ABSL_GUARDED_BY(mu_){};

  std::mutex fs_mu_ ABSL_ACQUIRED_BEFORE(mu_);

  std::atomic<uint64_t> hits_{0};
  std::atomic<uint64_t> misses_{0};
  std::atomic<uint64_t> evictions_{0};
  std::array<std::atomic<uint64_t>, kCacheKinds> kind_hits_{};
  std::array<std::atomic<uint64_t>, kCacheKinds> kind_misses_{};
  std::array<std::atomic<uint64_t>, kCacheKinds> kind_evictions_{};
  std::atomic<uint64_t> temp_counter_{0};

  // Counts queued thread-pool work; shared with that work so the last task
  // can signal it even while the cache is being destroyed.
  struct TaskTracker {
    std::mutex mu;
    std::condition_variable idle;
    uint64_t outstanding ABSL_GUARDED_BY(mu) = 0;
  };
  const std::shared_ptr<TaskTracker> tasks_ = std::make_shared<TaskTracker>();
};

}  // namespace modgate::cache
