#include "source/cache/disk_cache.h"

#include <dirent.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>

#include "source/cache/cache_key.h"
#include "source/cache/entry_file.h"

namespace modgate::cache {
namespace {

absl::string_view AbslView(std::string_view s) { return absl::string_view(s.data(), s.size()); }

struct ScannedEntry {
  std::string path;
  EntryFileInfo info;
};

// Collects the valid entries under `dir` (recursively), deleting files that
// are not complete entries for the key their path names.
void ScanDir(const std::string& entries_dir, const std::string& dir,
             std::vector<ScannedEntry>& out) {
  DIR* d = ::opendir(dir.c_str());
  if (d == nullptr) return;
  while (dirent* de = ::readdir(d)) {
    std::string_view name = de->d_name;
    if (name == "." || name == "..") continue;
    std::string path = dir + "/" + std::string(name);
    struct stat st;
    if (::lstat(path.c_str(), &st) != 0) continue;
    if (S_ISDIR(st.st_mode)) {
      ScanDir(entries_dir, path, out);
      continue;
    }
    // Symlinks and other oddities were not made by the cache: leave them
    // alone, never serve them.
    if (!S_ISREG(st.st_mode)) continue;
    UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW));
    if (!fd.valid()) continue;
    absl::StatusOr<EntryFileInfo> info = ReadEntryFileInfo(fd.get());
    std::string_view key = std::string_view(path).substr(entries_dir.size() + 1);
    if (!info.ok() || info->key != key || !ValidateCacheKey(key).ok()) {
      // Truncated, half-written or misplaced: not something we can serve.
      ::unlink(path.c_str());
      continue;
    }
    out.push_back(ScannedEntry{std::move(path), *std::move(info)});
  }
  ::closedir(d);
}

}  // namespace

absl::StatusOr<std::unique_ptr<Cache>> DiskCache::open(const DiskCacheOptions& options,
                                                       common::ThreadPool& pool) {
  if (options.dir.empty()) return absl::InvalidArgumentError("cache directory not set");
  absl::Status status = MakeDirs(options.dir);
  if (!status.ok()) return status;
  char* real = ::realpath(options.dir.c_str(), nullptr);
  if (real == nullptr) return ErrnoStatus(errno, "realpath " + options.dir);
  std::string root = real;
  ::free(real);
  for (const std::string& sub : {root + "/v1", root + "/tmp"}) {
    status = MakeDirs(sub);
    if (!status.ok()) return status;
  }

  std::unique_ptr<DiskCache> cache(new DiskCache(options, root, pool));
  // Two processes on one directory would delete each other's temp files and
  // disagree on sizes.
  std::string lock_path = root + "/LOCK";
  cache->lock_fd_.reset(::open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644));
  if (!cache->lock_fd_.valid()) return ErrnoStatus(errno, "open " + lock_path);
  if (::flock(cache->lock_fd_.get(), LOCK_EX | LOCK_NB) != 0) {
    return absl::FailedPreconditionError(
        AbslView("cache directory " + root + " is in use by another process"));
  }
  status = cache->scan();
  if (!status.ok()) return status;
  return std::unique_ptr<Cache>(std::move(cache));
}

DiskCache::DiskCache(const DiskCacheOptions& options, std::string root, common::ThreadPool& pool)
    : options_(options),
      root_(std::move(root)),
      entries_dir_(root_ + "/v1"),
      temp_dir_(root_ + "/tmp"),
      pool_(pool) {}

DiskCache::~DiskCache() {
  std::unique_lock<std::mutex> lock(tasks_->mu);
  tasks_->idle.wait(lock, [this] { return tasks_->outstanding == 0; });
}

absl::Status DiskCache::scan() {
  // Temp files belong to writers of a previous run: none of them committed.
  if (DIR* d = ::opendir(temp_dir_.c_str())) {
    while (dirent* de = ::readdir(d)) {
      std::string_view name = de->d_name;
      if (name == "." || name == "..") continue;
      ::unlinkat(::dirfd(d), de->d_name, 0);
    }
    ::closedir(d);
  } else {
    return ErrnoStatus(errno, "opendir " + temp_dir_);
  }

  std::vector<ScannedEntry> scanned;
  ScanDir(entries_dir_, entries_dir_, scanned);
  // Recency is not persisted; the file's age is the best guess.
  std::sort(scanned.begin(), scanned.end(), [](const ScannedEntry& a, const ScannedEntry& b) {
    return a.info.mtime_unix_ms < b.info.mtime_unix_ms;
  });
  std::vector<Victim> victims;
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (ScannedEntry& s : scanned) {
      auto entry = std::make_shared<Entry>();
      entry->key = std::move(s.info.key);
      entry->meta = std::move(s.info.meta);
      entry->path = std::move(s.path);
      entry->body_offset = kBodyOffset;
      entry->file_size = s.info.file_size;
      entry->file_id = s.info.file_id;
      insertLocked(std::move(entry));
    }
    // The cap may have shrunk since the last run.
    evictLocked(nullptr, victims);
  }
  for (const Victim& v : victims) UnlinkIfSame(v.path, v.file_id);
  return absl::OkStatus();
}

void DiskCache::runBlocking(std::function<void()> work) {
  {
    std::lock_guard<std::mutex> lock(tasks_->mu);
    ++tasks_->outstanding;
  }
  pool_.post([tracker = tasks_, work = std::move(work)]() mutable {
    work();
    // Release what the work captured before the cache may be destroyed.
    work = nullptr;
    std::lock_guard<std::mutex> lock(tracker->mu);
    if (--tracker->outstanding == 0) tracker->idle.notify_all();
  });
}

bool DiskCache::wantsHotBody(uint64_t body_size) const {
  return body_size <= options_.hot_object_max_bytes && body_size <= options_.hot_total_max_bytes;
}

std::shared_ptr<const Entry> DiskCache::lookup(std::string_view key) {
  std::shared_ptr<const Entry> entry;
  bool load = false;
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = index_.find(AbslView(key));
    if (it == index_.end()) {
      misses_.fetch_add(1, std::memory_order_relaxed);
      kind_misses_[KindIndex(key)].fetch_add(1, std::memory_order_relaxed);
      return nullptr;
    }
    Node& node = *it->second;
    ++node.hits;
    lru_.splice(lru_.begin(), lru_, node.lru_it);
    if (node.entry->hot_body != nullptr) {
      hot_lru_.splice(hot_lru_.begin(), hot_lru_, node.hot_it);
    } else if (!node.loading && wantsHotBody(node.entry->meta.body_size)) {
      node.loading = true;
      load = true;
    }
    entry = node.entry;
  }
  hits_.fetch_add(1, std::memory_order_relaxed);
  kind_hits_[KindIndex(key)].fetch_add(1, std::memory_order_relaxed);
  // This hit reads the file; the next one will not.
  if (load) runBlocking([this, entry] { loadHotBody(entry); });
  return entry;
}

std::shared_ptr<const Entry> DiskCache::peek(std::string_view key) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = index_.find(AbslView(key));
  return it == index_.end() ? nullptr : it->second->entry;
}

void DiskCache::loadHotBody(std::shared_ptr<const Entry> entry) {
  auto body = std::make_shared<std::string>(entry->meta.body_size, '\0');
  bool ok = false, vanished = false;
  UniqueFd fd(::open(entry->path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd.valid()) {
    vanished = errno == ENOENT;
  } else {
    struct stat st;
    ok = ::fstat(fd.get(), &st) == 0 && FileId{st.st_dev, st.st_ino} == entry->file_id &&
         static_cast<uint64_t>(st.st_size) == entry->file_size &&
         PreadFull(fd.get(), body->data(), body->size(), entry->body_offset).ok();
  }
  std::lock_guard<std::mutex> lock(mu_);
  auto it = index_.find(AbslView(entry->key));
  if (it == index_.end()) return;
  Node& node = *it->second;
  if (!(node.entry->file_id == entry->file_id)) return;  // a newer version; it loads itself
  node.loading = false;
  if (vanished) {
    removeLocked(&node);
    return;
  }
  if (ok && node.entry->hot_body == nullptr) setHotLocked(node, std::move(body));
}

void DiskCache::openBody(std::shared_ptr<const Entry> entry, event::Dispatcher& reply_to,
                         OpenBodyCallback cb) {
  if (entry == nullptr || !entry->stored()) {
    reply_to.post([cb = std::move(cb)] { cb(-1, "entry has no file"); });
    return;
  }
  runBlocking([this, entry = std::move(entry), &reply_to, cb = std::move(cb)]() mutable {
    std::string error;
    UniqueFd fd(::open(entry->path.c_str(), O_RDONLY | O_CLOEXEC));
    struct stat st;
    if (!fd.valid()) {
      int err = errno;
      error = ErrnoStatus(err, "open " + entry->path).ToString();
      if (err == ENOENT) forgetIfCurrent(*entry);
    } else if (::fstat(fd.get(), &st) != 0) {
      error = ErrnoStatus(errno, "fstat " + entry->path).ToString();
      fd.reset();
    } else if (!(FileId{st.st_dev, st.st_ino} == entry->file_id)) {
      // A newer version took the name since this entry was looked up.
      error = "entry replaced: " + entry->path;
      fd.reset();
    } else if (static_cast<uint64_t>(st.st_size) != entry->file_size ||
               ::lseek(fd.get(), static_cast<off_t>(entry->body_offset), SEEK_SET) < 0) {
      // Changed behind our back: never serve it.
      error = "entry file changed size: " + entry->path;
      fd.reset();
      forgetIfCurrent(*entry);
    }
    // If the dispatcher drops the callback unrun, the holder closes the fd.
    auto holder = std::make_shared<UniqueFd>(std::move(fd));
    reply_to.post(
        [holder, cb = std::move(cb), error = std::move(error)] { cb(holder->release(), error); });
  });
}

void DiskCache::forgetIfCurrent(const Entry& entry) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = index_.find(AbslView(entry.key));
  if (it != index_.end() && it->second->entry->file_id == entry.file_id) {
    removeLocked(it->second.get());
  }
}

EntryWriterPtr DiskCache::beginWrite(std::string_view key) {
  if (!ValidateCacheKey(key).ok()) return nullptr;
  std::string temp_path = temp_dir_ + "/" + std::to_string(::getpid()) + "-" +
                          std::to_string(temp_counter_.fetch_add(1)) + ".tmp";
  WriterHost& host = *this;
  return std::make_unique<DiskEntryWriter>(host, std::string(key), std::move(temp_path));
}

void DiskCache::insertSmall(std::string_view key, EntryMeta meta, std::string body,
                            CommitCallback done) {
  EntryWriterPtr writer = beginWrite(key);
  if (writer == nullptr) {
    absl::Status status = ValidateCacheKey(key);
    // Keep the promise that `done` runs on the thread pool.
    runBlocking([status, done = std::move(done)] {
      if (done) done(status);
    });
    return;
  }
  auto shared_body = std::make_shared<const std::string>(std::move(body));
  static_cast<DiskEntryWriter&>(*writer).setKnownBody(shared_body);
  buffer::Buffer data;
  data.addShared(shared_body);
  writer->append(data);
  writer->commit(std::move(meta), std::move(done));
}

void DiskCache::refresh(std::shared_ptr<const Entry> entry, EntryMeta meta, CommitCallback done) {
  if (entry->hot_body != nullptr) {
    insertSmall(entry->key, std::move(meta), *entry->hot_body, std::move(done));
    return;
  }
  runBlocking([this, entry = std::move(entry), meta = std::move(meta),
               done = std::move(done)]() mutable {
    std::string body(entry->meta.body_size, '\0');
    UniqueFd fd(::open(entry->path.c_str(), O_RDONLY | O_CLOEXEC));
    struct stat st;
    absl::Status status;
    if (!fd.valid()) {
      status = ErrnoStatus(errno, "open " + entry->path);
    } else if (::fstat(fd.get(), &st) != 0 || !(FileId{st.st_dev, st.st_ino} == entry->file_id)) {
      status = absl::NotFoundError(AbslView("entry replaced or gone: " + entry->path));
    } else {
      status = PreadFull(fd.get(), body.data(), body.size(), entry->body_offset);
    }
    if (!status.ok()) {
      if (done) done(status);
      return;
    }
    insertSmall(entry->key, std::move(meta), std::move(body), std::move(done));
  });
}

void DiskCache::remove(std::string_view key) {
  Victim victim;
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = index_.find(AbslView(key));
    if (it == index_.end()) return;
    victim = removeLocked(it->second.get());
  }
  runBlocking([this, victim = std::move(victim)] {
    std::lock_guard<std::mutex> fs_lock(fs_mu_);
    UnlinkIfSame(victim.path, victim.file_id);
  });
}

std::vector<std::shared_ptr<const Entry>> DiskCache::entries() const {
  std::vector<std::shared_ptr<const Entry>> out;
  std::lock_guard<std::mutex> lock(mu_);
  out.reserve(index_.size());
  for (const auto& [key, node] : index_) out.push_back(node->entry);
  return out;
}

std::vector<EntryUsage> DiskCache::usage() const {
  std::vector<EntryUsage> out;
  std::lock_guard<std::mutex> lock(mu_);
  out.reserve(index_.size());
  for (const auto& [key, node] : index_) {
    out.push_back(EntryUsage{node->entry->key, node->entry->file_size, node->hits});
  }
  return out;
}

CacheStats DiskCache::stats() const {
  CacheStats s;
  {
    std::lock_guard<std::mutex> lock(mu_);
    s.entries = index_.size();
    s.bytes = bytes_;
    s.hot_entries = hot_lru_.size();
    s.hot_bytes = hot_bytes_;
    for (size_t k = 0; k < kCacheKinds; ++k) {
      s.kinds[k].entries = kind_entries_[k];
      s.kinds[k].bytes = kind_bytes_[k];
    }
  }
  for (size_t k = 0; k < kCacheKinds; ++k) {
    s.kinds[k].hits = kind_hits_[k].load(std::memory_order_relaxed);
    s.kinds[k].misses = kind_misses_[k].load(std::memory_order_relaxed);
    s.kinds[k].evictions = kind_evictions_[k].load(std::memory_order_relaxed);
  }
  s.hits = hits_.load(std::memory_order_relaxed);
  s.misses = misses_.load(std::memory_order_relaxed);
  s.evictions = evictions_.load(std::memory_order_relaxed);
  return s;
}

absl::StatusOr<std::shared_ptr<const Entry>> DiskCache::install(PreparedEntry prepared) {
  if (prepared.file_size > options_.max_bytes) {
    return absl::ResourceExhaustedError("entry larger than the cache size cap");
  }
  std::string path = entries_dir_ + "/" + prepared.key;
  std::string dir = DirName(path);
  absl::Status status = MakeDirs(dir);
  if (!status.ok()) return status;

  auto entry = std::make_shared<Entry>();
  entry->key = std::move(prepared.key);
  entry->meta = std::move(prepared.meta);
  entry->path = path;
  entry->body_offset = kBodyOffset;
  entry->file_size = prepared.file_size;
  entry->file_id = prepared.file_id;

  std::shared_ptr<const Entry> result;
  {
    std::lock_guard<std::mutex> fs_lock(fs_mu_);
    if (::rename(prepared.temp_path.c_str(), path.c_str()) != 0) {
      return ErrnoStatus(errno, "rename " + prepared.temp_path + " to " + path);
    }
    std::vector<Victim> victims;
    {
      std::lock_guard<std::mutex> lock(mu_);
      Node* node = insertLocked(std::move(entry));
      if (prepared.hot_body != nullptr) setHotLocked(*node, std::move(prepared.hot_body));
      evictLocked(node, victims);
      result = node->entry;
    }
    for (const Victim& v : victims) UnlinkIfSame(v.path, v.file_id);
  }
  // Makes the rename durable before the caller is told it is done. Readers
  // may see the entry a moment earlier; a crash in between loses only a
  // fully written, fsynced file's name, never serves a partial one.
  if (options_.fsync) {
    status = FsyncDir(dir);
    if (!status.ok()) return status;
  }
  return result;
}

DiskCache::Node* DiskCache::insertLocked(std::shared_ptr<const Entry> entry) {
  auto [it, inserted] = index_.try_emplace(AbslView(entry->key));
  if (inserted) {
    it->second = std::make_unique<Node>();
    lru_.push_front(it->second.get());
  } else {
    // The rename replaced the old file; only the accounting is left.
    Node& old = *it->second;
    if (old.entry->hot_body != nullptr) dropHotLocked(old);
    bytes_ -= old.entry->file_size;
    kind_bytes_[KindIndex(old.entry->key)] -= old.entry->file_size;
    --kind_entries_[KindIndex(old.entry->key)];
    lru_.splice(lru_.begin(), lru_, old.lru_it);
  }
  Node* node = it->second.get();
  node->lru_it = lru_.begin();
  node->loading = false;
  bytes_ += entry->file_size;
  kind_bytes_[KindIndex(entry->key)] += entry->file_size;
  ++kind_entries_[KindIndex(entry->key)];
  node->entry = std::move(entry);
  return node;
}

DiskCache::Victim DiskCache::removeLocked(Node* node) {
  if (node->entry->hot_body != nullptr) dropHotLocked(*node);
  Victim victim{node->entry->path, node->entry->file_id};
  bytes_ -= node->entry->file_size;
  kind_bytes_[KindIndex(node->entry->key)] -= node->entry->file_size;
  --kind_entries_[KindIndex(node->entry->key)];
  lru_.erase(node->lru_it);
  auto it = index_.find(AbslView(node->entry->key));
  index_.erase(it);  // destroys node
  return victim;
}

void DiskCache::evictLocked(const Node* keep, std::vector<Victim>& victims) {
  while (bytes_ > options_.max_bytes && !lru_.empty()) {
    Node* victim = lru_.back();
    if (victim == keep) break;  // only the new entry is left, and it fits alone
    evictions_.fetch_add(1, std::memory_order_relaxed);
    kind_evictions_[KindIndex(victim->entry->key)].fetch_add(1, std::memory_order_relaxed);
    victims.push_back(removeLocked(victim));
  }
}

void DiskCache::setHotLocked(Node& node, std::shared_ptr<const std::string> body) {
  const uint64_t size = body->size();
  if (!wantsHotBody(size)) return;
  // Make room by dropping the least recently used bodies (not their entries).
  while (hot_bytes_ + size > options_.hot_total_max_bytes && !hot_lru_.empty()) {
    dropHotLocked(*hot_lru_.back());
  }
  auto copy = std::make_shared<Entry>(*node.entry);
  copy->hot_body = std::move(body);
  node.entry = std::move(copy);
  hot_lru_.push_front(&node);
  node.hot_it = hot_lru_.begin();
  hot_bytes_ += size;
}

void DiskCache::dropHotLocked(Node& node) {
  hot_bytes_ -= node.entry->hot_body->size();
  hot_lru_.erase(node.hot_it);
  auto copy = std::make_shared<Entry>(*node.entry);
  copy->hot_body = nullptr;
  node.entry = std::move(copy);
}

}  // namespace modgate::cache
