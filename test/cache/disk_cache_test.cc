#include "source/cache/disk_cache.h"

#include <dirent.h>
#include <fcntl.h>
#include <unistd.h>

#include <condition_variable>
#include <mutex>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/match.h"
#include "gtest/gtest.h"
#include "source/cache/entry_file.h"
#include "source/cache/file_util.h"
#include "source/common/common/thread_pool.h"
#include "test/cache/test_util.h"

namespace modgate::cache {
namespace {

using test::CommitSync;
using test::DispatcherThread;
using test::FileExists;
using test::InsertSync;
using test::ReadAndClose;
using test::WaitFor;

class DiskCacheTest : public testing::Test {
 protected:
  DiskCacheTest() : pool_("cache-test", 4), worker_("worker") {
    options_.dir = test::NewTestDir("disk_cache");
    options_.max_bytes = 64 << 20;
  }
  ~DiskCacheTest() override { cache_.reset(); }

  void openCache() {
    cache_.reset();
    auto cache = DiskCache::open(options_, pool_);
    ASSERT_TRUE(cache.ok()) << cache.status();
    cache_ = *std::move(cache);
  }

  // Reopens the cache capped to hold `n` entries of `body` under keys as
  // long as `key` (not n + 1); returns the size of one such entry's file,
  // found by storing and removing one.
  uint64_t openCacheWithRoomFor(uint64_t n, const std::string& key, const std::string& body) {
    openCache();
    auto probe = InsertSync(*cache_, key, okMeta(), body);
    EXPECT_TRUE(probe.ok()) << probe.status();
    cache_->remove(key);
    const uint64_t file_size = probe.ok() ? (*probe)->file_size : 0;
    options_.max_bytes = n * file_size + file_size / 2;
    openCache();
    return file_size;
  }

  EntryMeta okMeta(std::string content_type = "application/octet-stream") {
    EntryMeta meta;
    meta.status = 200;
    meta.content_type = std::move(content_type);
    return meta;
  }

  // Opens the entry's body on the worker dispatcher and reads it through.
  std::pair<int, std::string> readBody(std::shared_ptr<const Entry> entry, std::string* error) {
    test::Notification done;
    std::pair<int, std::string> result{-1, ""};
    cache_->openBody(entry, worker_.dispatcher(), [&](int fd, std::string err) {
      EXPECT_TRUE(worker_.dispatcher().isThreadSafe());
      result.first = fd;
      // The body is followed by the entry's meta: read body_size bytes.
      if (fd >= 0) result.second = ReadAndClose(fd, entry->meta.body_size);
      if (error != nullptr) *error = err;
      done.Notify();
    });
    done.WaitForNotification();
    return result;
  }

  std::string entryPath(const std::string& key) { return options_.dir + "/v1/" + key; }

  common::ThreadPool pool_;
  DispatcherThread worker_;
  DiskCacheOptions options_;
  std::unique_ptr<Cache> cache_;
};

TEST_F(DiskCacheTest, InsertSmallLookupOpenBody) {
  openCache();
  const std::string key = "github.com/!burnt!sushi/toml/@v/v1.2.0.mod";
  auto committed =
      InsertSync(*cache_, key, okMeta("text/plain"), "module github.com/BurntSushi/toml\n");
  ASSERT_TRUE(committed.ok()) << committed.status();

  auto entry = cache_->lookup(key);
  ASSERT_NE(entry, nullptr);
  EXPECT_EQ(entry->key, key);
  EXPECT_EQ(entry->meta.status, 200);
  EXPECT_EQ(entry->meta.content_type, "text/plain");
  EXPECT_EQ(entry->meta.body_size, 34u);
  EXPECT_GT(entry->meta.stored_at_unix_ms, 0);
  EXPECT_TRUE(entry->fresh(entry->meta.stored_at_unix_ms + 1000000000));  // immutable
  EXPECT_TRUE(absl::EndsWith(entry->path, "/v1/" + key)) << entry->path;
  EXPECT_TRUE(entry->stored());
  ASSERT_NE(entry->hot_body, nullptr);
  EXPECT_EQ(*entry->hot_body, "module github.com/BurntSushi/toml\n");

  std::string error;
  auto [fd, body] = readBody(entry, &error);
  EXPECT_GE(fd, 0) << error;
  EXPECT_EQ(body, "module github.com/BurntSushi/toml\n");

  EXPECT_EQ(cache_->lookup("github.com/other/@v/list"), nullptr);
  CacheStats stats = cache_->stats();
  EXPECT_EQ(stats.entries, 1u);
  EXPECT_EQ(stats.hits, 1u);
  EXPECT_EQ(stats.misses, 1u);
  EXPECT_EQ(stats.bytes, entry->file_size);
  EXPECT_EQ(stats.hot_bytes, 34u);
}

TEST_F(DiskCacheTest, CommitComputesTheEtagFromTheBody) {
  openCache();
  auto a = InsertSync(*cache_, "example.com/a/@v/list", okMeta(), "v1.0.0\n");
  auto b = InsertSync(*cache_, "example.com/b/@v/list", okMeta(), "v1.0.0\n");
  auto c = InsertSync(*cache_, "example.com/c/@v/list", okMeta(), "v1.0.1\n");
  ASSERT_TRUE(a.ok() && b.ok() && c.ok());
  // SHA-256("v1.0.0\n"), first 128 bits, quoted: the same bytes give the same
  // strong ETag under any key, other bytes another.
  EXPECT_EQ((*a)->meta.etag.size(), 34u);
  EXPECT_EQ((*a)->meta.etag.front(), '"');
  EXPECT_EQ((*a)->meta.etag, (*b)->meta.etag);
  EXPECT_NE((*a)->meta.etag, (*c)->meta.etag);
  // Kept in the file: a restart serves the same ETag without rehashing.
  const std::string etag = (*a)->meta.etag;
  openCache();
  auto entry = cache_->lookup("example.com/a/@v/list");
  ASSERT_NE(entry, nullptr);
  EXPECT_EQ(entry->meta.etag, etag);
}

TEST_F(DiskCacheTest, RefreshStoresTheSameBodyWithNewMeta) {
  options_.hot_object_max_bytes = 0;  // the body must be read back from the file
  openCache();
  const std::string key = "example.com/a/@v/list";
  EntryMeta meta = okMeta("text/plain");
  meta.expires_at_unix_ms = 1000;
  meta.upstream_etag = "\"up\"";
  auto old = InsertSync(*cache_, key, meta, "v1.0.0\nv1.1.0\n");
  ASSERT_TRUE(old.ok());
  ASSERT_EQ((*old)->hot_body, nullptr);
  EntryMeta refreshed = (*old)->meta;
  refreshed.expires_at_unix_ms = 4102444800000;
  test::Notification done;
  absl::StatusOr<std::shared_ptr<const Entry>> result;
  cache_->refresh(*old, refreshed, [&](absl::StatusOr<std::shared_ptr<const Entry>> entry) {
    result = std::move(entry);
    done.Notify();
  });
  done.WaitForNotification();
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ((*result)->meta.expires_at_unix_ms, 4102444800000);
  EXPECT_EQ((*result)->meta.stored_at_unix_ms, (*old)->meta.stored_at_unix_ms);
  EXPECT_EQ((*result)->meta.etag, (*old)->meta.etag);
  EXPECT_EQ((*result)->meta.upstream_etag, "\"up\"");
  auto entry = cache_->lookup(key);
  ASSERT_NE(entry, nullptr);
  EXPECT_FALSE(entry->file_id == (*old)->file_id);
  EXPECT_EQ(readBody(entry, nullptr).second, "v1.0.0\nv1.1.0\n");
}

TEST_F(DiskCacheTest, StreamedWriteIsInvisibleUntilCommit) {
  openCache();
  const std::string key = "example.com/m/@v/v1.0.0.zip";
  std::string expected;
  auto writer = cache_->beginWrite(key);
  ASSERT_NE(writer, nullptr);
  for (int i = 0; i < 10; ++i) {
    std::string chunk = test::PatternBytes(expected.size(), 100000);
    expected += chunk;
    buffer::Buffer data;
    data.add(chunk);
    writer->append(data);
    EXPECT_EQ(data.length(), 0u);
  }
  ASSERT_TRUE(WaitFor([&] { return writer->bytesWritten() == expected.size(); }));
  EXPECT_EQ(writer->pendingWriteBytes(), 0u);
  EXPECT_EQ(cache_->lookup(key), nullptr);
  EXPECT_TRUE(FileExists(writer->tempPath()));

  // The growing temp file is readable at the body offset.
  int fd = writer->dupReadFd();
  ASSERT_GE(fd, 0);
  std::string head(1000, '\0');
  ASSERT_EQ(::pread(fd, head.data(), head.size(), writer->bodyOffset()), 1000);
  EXPECT_EQ(head, expected.substr(0, 1000));

  auto committed = CommitSync(*writer, okMeta("application/zip"));
  ASSERT_TRUE(committed.ok()) << committed.status();
  EXPECT_FALSE(FileExists(writer->tempPath()));
  // The fd taken before the rename still reads the body.
  std::string tail(1000, '\0');
  ASSERT_EQ(::pread(fd, tail.data(), tail.size(), writer->bodyOffset() + expected.size() - 1000),
            1000);
  EXPECT_EQ(tail, expected.substr(expected.size() - 1000));
  ::close(fd);

  auto entry = cache_->lookup(key);
  ASSERT_NE(entry, nullptr);
  EXPECT_EQ(entry->meta.body_size, expected.size());
  EXPECT_EQ(entry->body_offset, kBodyOffset);
  EXPECT_EQ(entry->hot_body, nullptr);  // over the hot-object limit
  EXPECT_TRUE(absl::EndsWith(entry->path, "/v1/" + key)) << entry->path;
  auto [rfd, body] = readBody(entry, nullptr);
  EXPECT_GE(rfd, 0);
  EXPECT_TRUE(body == expected);
}

// Writers that share one total (a worker's fetches) add what they queue and
// take it back when written or dropped: blocked, the total is exactly what
// waits; drained, committed, aborted or not, it is zero again.
TEST_F(DiskCacheTest, SharedPendingTotalCountsQueuedBytesAndReturnsToZero) {
  openCache();
  SharedPendingBytes total = std::make_shared<std::atomic<uint64_t>>(0);
  // Every pool thread waits until released: nothing is written meanwhile.
  std::mutex mu;
  std::condition_variable cv;
  bool released = false;
  int blocked = 0;
  for (int i = 0; i < 4; ++i) {
    pool_.post([&] {
      std::unique_lock<std::mutex> lock(mu);
      ++blocked;
      cv.notify_all();
      cv.wait(lock, [&] { return released; });
    });
  }
  {
    std::unique_lock<std::mutex> lock(mu);
    ASSERT_TRUE(cv.wait_for(lock, std::chrono::seconds(30), [&] { return blocked == 4; }));
  }
  auto append = [](EntryWriter& writer, size_t size) {
    buffer::Buffer data;
    data.add(test::PatternBytes(0, size));
    writer.append(data);
  };
  auto committed = cache_->beginWrite("example.com/a/@v/v1.0.0.zip");
  auto aborted = cache_->beginWrite("example.com/b/@v/v1.0.0.zip");
  auto late = cache_->beginWrite("example.com/c/@v/v1.0.0.zip");
  committed->countPendingIn(total);
  aborted->countPendingIn(total);
  append(*late, 5000);  // queued before it counts in the total: never in it
  late->countPendingIn(total);
  for (int i = 0; i < 8; ++i) {
    append(*committed, 100000);
    append(*aborted, 70000);
    append(*late, 30000);
  }
  EXPECT_EQ(total->load(), 8u * (100000 + 70000 + 30000));
  EXPECT_EQ(late->pendingWriteBytes(), 5000u + 8 * 30000);
  aborted.reset();  // its queued writes still run, then the file goes
  append(*late, 1000);
  test::Notification done;
  absl::StatusOr<std::shared_ptr<const Entry>> result;
  committed->commit(okMeta("application/zip"), [&](absl::StatusOr<std::shared_ptr<const Entry>> r) {
    result = std::move(r);
    done.Notify();
  });
  append(*committed, 50000);  // after commit: dropped, never counted
  EXPECT_EQ(total->load(), 8u * (100000 + 70000 + 30000) + 1000);
  {
    std::lock_guard<std::mutex> lock(mu);
    released = true;
  }
  cv.notify_all();
  done.WaitForNotification();
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ((*result)->meta.body_size, 800000u);
  ASSERT_TRUE(WaitFor([&] { return late->bytesWritten() == 5000u + 8 * 30000 + 1000; }));
  EXPECT_TRUE(WaitFor([&] { return total->load() == 0; })) << total->load();
  late->abort();
  EXPECT_EQ(total->load(), 0u);
}

TEST_F(DiskCacheTest, AbortDeletesTempFile) {
  openCache();
  auto writer = cache_->beginWrite("example.com/m/@v/v1.0.0.zip");
  buffer::Buffer data;
  data.add("partial");
  writer->append(data);
  std::string temp = writer->tempPath();
  ASSERT_TRUE(WaitFor([&] { return writer->bytesWritten() == 7; }));
  EXPECT_TRUE(FileExists(temp));
  writer.reset();  // destroying without commit aborts
  EXPECT_TRUE(WaitFor([&] { return !FileExists(temp); }));
  EXPECT_EQ(cache_->lookup("example.com/m/@v/v1.0.0.zip"), nullptr);
}

TEST_F(DiskCacheTest, CrashLeftoversAreNotServedAfterReopen) {
  openCache();
  ASSERT_TRUE(InsertSync(*cache_, "example.com/a/@v/list", okMeta(), "v1.0.0\nv1.1.0\n").ok());
  ASSERT_TRUE(InsertSync(*cache_, "example.com/b/@v/list", okMeta(), "v2.0.0\n").ok());
  ASSERT_TRUE(InsertSync(*cache_, "example.com/c/@v/list", okMeta(), "v3.0.0\n").ok());
  cache_.reset();

  // A crash mid-write leaves a temp file behind...
  std::string temp = options_.dir + "/tmp/999-1.tmp";
  {
    int fd = ::open(temp.c_str(), O_WRONLY | O_CREAT, 0644);
    ASSERT_GE(fd, 0);
    ASSERT_EQ(::write(fd, "garbage", 7), 7);
    ::close(fd);
  }
  // ...a disk problem truncates an entry...
  std::string b = entryPath("example.com/b/@v/list");
  struct stat st;
  ASSERT_EQ(::stat(b.c_str(), &st), 0);
  ASSERT_EQ(::truncate(b.c_str(), st.st_size - 3), 0);
  // ...and something without a prefix sits where an entry would be.
  std::string bogus = entryPath("example.com/d/@v/list");
  ASSERT_EQ(::mkdir((options_.dir + "/v1/example.com/d").c_str(), 0755), 0);
  ASSERT_EQ(::mkdir((options_.dir + "/v1/example.com/d/@v").c_str(), 0755), 0);
  {
    int fd = ::open(bogus.c_str(), O_WRONLY | O_CREAT, 0644);
    std::string zeros(100, '\0');
    ASSERT_EQ(::write(fd, zeros.data(), zeros.size()), 100);
    ::close(fd);
  }
  // A valid entry file under the wrong name is not served either.
  std::string moved = entryPath("example.com/c/@v/list");
  std::string wrong = entryPath("example.com/a/@v/latest");
  ASSERT_EQ(::rename(moved.c_str(), wrong.c_str()), 0);

  openCache();
  EXPECT_NE(cache_->lookup("example.com/a/@v/list"), nullptr);
  EXPECT_EQ(cache_->lookup("example.com/b/@v/list"), nullptr);
  EXPECT_EQ(cache_->lookup("example.com/c/@v/list"), nullptr);
  EXPECT_EQ(cache_->lookup("example.com/d/@v/list"), nullptr);
  EXPECT_EQ(cache_->lookup("example.com/a/@v/latest"), nullptr);
  EXPECT_FALSE(FileExists(temp));
  EXPECT_FALSE(FileExists(b));
  EXPECT_FALSE(FileExists(bogus));
  EXPECT_FALSE(FileExists(wrong));
  EXPECT_EQ(cache_->stats().entries, 1u);
}

TEST_F(DiskCacheTest, RestartKeepsEntriesAndMetadata) {
  openCache();
  EntryMeta list = okMeta("text/plain; charset=utf-8");
  list.stored_at_unix_ms = 1700000000000;
  list.expires_at_unix_ms = 1700000060000;
  ASSERT_TRUE(InsertSync(*cache_, "example.com/a/@v/list", list, "v1.0.0\n").ok());

  EntryMeta negative;
  negative.status = 404;
  negative.content_type = "text/plain; charset=utf-8";
  negative.expires_at_unix_ms = 1700000600000;
  negative.upstream_error = "not found: example.com/nope@latest:\nno such module";
  ASSERT_TRUE(InsertSync(*cache_, "example.com/nope/@latest", negative, "not found\n").ok());

  std::string zip = test::PatternBytes(0, 300000);
  ASSERT_TRUE(
      InsertSync(*cache_, "example.com/a/@v/v1.0.0.zip", okMeta("application/zip"), zip).ok());
  auto before = cache_->lookup("example.com/nope/@latest");
  ASSERT_NE(before, nullptr);

  openCache();  // a new process, same directory
  EXPECT_EQ(cache_->stats().entries, 3u);

  auto a = cache_->lookup("example.com/a/@v/list");
  ASSERT_NE(a, nullptr);
  EXPECT_EQ(a->meta.status, 200);
  EXPECT_EQ(a->meta.content_type, "text/plain; charset=utf-8");
  EXPECT_EQ(a->meta.stored_at_unix_ms, 1700000000000);
  EXPECT_EQ(a->meta.expires_at_unix_ms, 1700000060000);
  EXPECT_TRUE(a->fresh(1700000059999));
  EXPECT_FALSE(a->fresh(1700000060000));

  auto n = cache_->lookup("example.com/nope/@latest");
  ASSERT_NE(n, nullptr);
  EXPECT_EQ(n->meta, before->meta);
  EXPECT_EQ(n->meta.status, 404);
  EXPECT_EQ(n->meta.upstream_error, "not found: example.com/nope@latest:\nno such module");
  EXPECT_EQ(n->file_size, before->file_size);

  auto z = cache_->lookup("example.com/a/@v/v1.0.0.zip");
  ASSERT_NE(z, nullptr);
  EXPECT_EQ(z->meta.expires_at_unix_ms, 0);
  auto [fd, body] = readBody(z, nullptr);
  EXPECT_GE(fd, 0);
  EXPECT_TRUE(body == zip);
}

TEST_F(DiskCacheTest, LruEvictionRespectsAccessOrder) {
  const std::string body(10000, 'x');
  const uint64_t file_size = openCacheWithRoomFor(3, "key-x", body);

  ASSERT_TRUE(InsertSync(*cache_, "key-a", okMeta(), body).ok());
  ASSERT_TRUE(InsertSync(*cache_, "key-b", okMeta(), body).ok());
  ASSERT_TRUE(InsertSync(*cache_, "key-c", okMeta(), body).ok());
  EXPECT_EQ(cache_->stats().entries, 3u);
  ASSERT_NE(cache_->lookup("key-a"), nullptr);  // a is now more recent than b

  ASSERT_TRUE(InsertSync(*cache_, "key-d", okMeta(), body).ok());
  EXPECT_EQ(cache_->lookup("key-b"), nullptr);
  EXPECT_FALSE(FileExists(entryPath("key-b")));
  EXPECT_NE(cache_->lookup("key-a"), nullptr);
  EXPECT_NE(cache_->lookup("key-c"), nullptr);
  EXPECT_NE(cache_->lookup("key-d"), nullptr);
  // Order now (old -> new): a, c, d.
  ASSERT_TRUE(InsertSync(*cache_, "key-e", okMeta(), body).ok());
  EXPECT_EQ(cache_->lookup("key-a"), nullptr);
  CacheStats stats = cache_->stats();
  EXPECT_EQ(stats.entries, 3u);
  EXPECT_EQ(stats.evictions, 2u);
  EXPECT_LE(stats.bytes, options_.max_bytes);

  // An entry larger than the whole cache is refused and evicts nothing.
  auto huge = InsertSync(*cache_, "key-huge", okMeta(), std::string(4 * file_size, 'y'));
  EXPECT_EQ(huge.status().code(), absl::StatusCode::kResourceExhausted);
  EXPECT_EQ(cache_->lookup("key-huge"), nullptr);
  EXPECT_EQ(cache_->stats().entries, 3u);
  EXPECT_TRUE(WaitFor([&] {
    DIR* d = ::opendir((options_.dir + "/tmp").c_str());
    int n = 0;
    while (dirent* de = ::readdir(d)) n += de->d_name[0] != '.';
    ::closedir(d);
    return n == 0;
  }));

  // A smaller cap on restart evicts down to it.
  options_.max_bytes = file_size + file_size / 2;
  openCache();
  EXPECT_EQ(cache_->stats().entries, 1u);
}

TEST_F(DiskCacheTest, ReplacingAKeyKeepsAccountsStraight) {
  openCache();
  auto first = InsertSync(*cache_, "example.com/a/@v/list", okMeta(), "v1.0.0\n");
  ASSERT_TRUE(first.ok());
  auto second = InsertSync(*cache_, "example.com/a/@v/list", okMeta(), "v1.0.0\nv1.1.0\n");
  ASSERT_TRUE(second.ok());
  auto entry = cache_->lookup("example.com/a/@v/list");
  ASSERT_NE(entry, nullptr);
  EXPECT_EQ(*entry->hot_body, "v1.0.0\nv1.1.0\n");
  CacheStats stats = cache_->stats();
  EXPECT_EQ(stats.entries, 1u);
  EXPECT_EQ(stats.bytes, entry->file_size);
  EXPECT_EQ(stats.hot_bytes, 14u);

  // The old version's file is gone (replaced by rename): openBody says so
  // and keeps the current version indexed.
  std::string error;
  auto [fd, body] = readBody(*first, &error);
  EXPECT_EQ(fd, -1);
  EXPECT_NE(error.find("replaced"), std::string::npos) << error;
  EXPECT_NE(cache_->lookup("example.com/a/@v/list"), nullptr);
}

TEST_F(DiskCacheTest, CountsByKindAndHitsPerEntry) {
  const std::string zip(10000, 'z');
  openCache();
  auto probe = InsertSync(*cache_, "example.com/a/@v/v1.0.0.zip", okMeta(), zip);
  ASSERT_TRUE(probe.ok());
  const uint64_t zip_size = (*probe)->file_size;
  ASSERT_TRUE(InsertSync(*cache_, "example.com/a/@v/list", okMeta(), "v1.0.0\n").ok());
  ASSERT_TRUE(InsertSync(*cache_, "example.com/a/@v/v1.0.0.info", okMeta(), "{}").ok());
  ASSERT_TRUE(InsertSync(*cache_, "sumdb/sum.golang.org/latest", okMeta(), "tree").ok());
  EXPECT_NE(cache_->lookup("example.com/a/@v/v1.0.0.zip"), nullptr);
  EXPECT_NE(cache_->lookup("example.com/a/@v/v1.0.0.zip"), nullptr);
  EXPECT_NE(cache_->lookup("example.com/a/@v/v1.0.0.info"), nullptr);
  EXPECT_EQ(cache_->lookup("example.com/a/@v/v2.0.0.zip"), nullptr);
  // A new version of a key keeps its hits.
  ASSERT_TRUE(InsertSync(*cache_, "example.com/a/@v/list", okMeta(), "v1.0.0\nv1.1.0\n").ok());
  EXPECT_NE(cache_->lookup("example.com/a/@v/list"), nullptr);

  const CacheStats stats = cache_->stats();
  const KindStats& zips = stats.kinds[static_cast<size_t>(CacheKind::kZip)];
  EXPECT_EQ(zips.entries, 1u);
  EXPECT_EQ(zips.bytes, zip_size);
  EXPECT_EQ(zips.hits, 2u);
  EXPECT_EQ(zips.misses, 1u);
  EXPECT_EQ(stats.kinds[static_cast<size_t>(CacheKind::kInfo)].hits, 1u);
  EXPECT_EQ(stats.kinds[static_cast<size_t>(CacheKind::kList)].entries, 1u);
  EXPECT_EQ(stats.kinds[static_cast<size_t>(CacheKind::kSumdb)].entries, 1u);
  uint64_t bytes = 0, entries = 0;
  for (const KindStats& kind : stats.kinds) {
    bytes += kind.bytes;
    entries += kind.entries;
  }
  EXPECT_EQ(bytes, stats.bytes);
  EXPECT_EQ(entries, stats.entries);

  absl::flat_hash_map<std::string, uint64_t> hits;
  for (const EntryUsage& usage : cache_->usage()) hits[usage.key] = usage.hits;
  EXPECT_EQ(hits["example.com/a/@v/v1.0.0.zip"], 2u);
  EXPECT_EQ(hits["example.com/a/@v/list"], 1u);
  EXPECT_EQ(hits["sumdb/sum.golang.org/latest"], 0u);

  // Evictions by kind: with room for one zip, a second one evicts the first.
  for (const char* key :
       {"example.com/a/@v/list", "example.com/a/@v/v1.0.0.info", "sumdb/sum.golang.org/latest"}) {
    cache_->remove(key);
  }
  options_.max_bytes = zip_size + zip_size / 2;
  openCache();
  ASSERT_TRUE(InsertSync(*cache_, "example.com/b/@v/v1.0.0.zip", okMeta(), zip).ok());
  const CacheStats after = cache_->stats();
  EXPECT_EQ(after.kinds[static_cast<size_t>(CacheKind::kZip)].evictions, 1u);
  EXPECT_EQ(after.kinds[static_cast<size_t>(CacheKind::kZip)].entries, 1u);
  EXPECT_EQ(after.evictions, 1u);
}

TEST_F(DiskCacheTest, PeekCountsNothingAndKeepsTheLruOrder) {
  const std::string body(10000, 'x');
  openCacheWithRoomFor(2, "example.com/a/@v/v1.0.0.mod", body);
  ASSERT_TRUE(InsertSync(*cache_, "example.com/a/@v/v1.0.0.mod", okMeta(), body).ok());
  ASSERT_TRUE(InsertSync(*cache_, "example.com/b/@v/v1.0.0.mod", okMeta(), body).ok());

  std::shared_ptr<const Entry> a = cache_->peek("example.com/a/@v/v1.0.0.mod");
  ASSERT_NE(a, nullptr);
  EXPECT_EQ(a->key, "example.com/a/@v/v1.0.0.mod");
  EXPECT_EQ(cache_->peek("example.com/c/@v/v1.0.0.mod"), nullptr);
  const CacheStats stats = cache_->stats();
  EXPECT_EQ(stats.hits, 0u);
  EXPECT_EQ(stats.misses, 0u);
  EXPECT_EQ(stats.kinds[static_cast<size_t>(CacheKind::kMod)].hits, 0u);
  EXPECT_EQ(stats.kinds[static_cast<size_t>(CacheKind::kMod)].misses, 0u);
  for (const EntryUsage& usage : cache_->usage()) EXPECT_EQ(usage.hits, 0u) << usage.key;

  // Still the least recently used: a third entry evicts it, not b.
  ASSERT_TRUE(InsertSync(*cache_, "example.com/c/@v/v1.0.0.mod", okMeta(), body).ok());
  EXPECT_EQ(cache_->peek("example.com/a/@v/v1.0.0.mod"), nullptr);
  EXPECT_NE(cache_->peek("example.com/b/@v/v1.0.0.mod"), nullptr);
}

TEST(CacheKindTest, KindAndModuleOfKeys) {
  EXPECT_EQ(KindOfKey("github.com/!burnt!sushi/toml/@v/v1.2.0.zip"), CacheKind::kZip);
  EXPECT_EQ(KindOfKey("example.com/a/@v/list"), CacheKind::kList);
  EXPECT_EQ(KindOfKey("example.com/a/@latest"), CacheKind::kLatest);
  EXPECT_EQ(KindOfKey("example.com/a/@v/v1.0.0.mod"), CacheKind::kMod);
  EXPECT_EQ(KindOfKey("sumdb/sum.golang.org/lookup/example.com/a@v1.0.0"), CacheKind::kSumdb);
  EXPECT_EQ(KindOfKey("example.com/a.zip"), CacheKind::kOther);
  EXPECT_EQ(ModuleOfKey("github.com/!burnt!sushi/toml/@v/v1.2.0.zip"),
            "github.com/!burnt!sushi/toml");
  EXPECT_EQ(ModuleOfKey("example.com/a/@latest"), "example.com/a");
  EXPECT_EQ(ModuleOfKey("sumdb/sum.golang.org/latest"), "");
  EXPECT_EQ(ModuleOfKey("no-module-here"), "");
}

TEST_F(DiskCacheTest, VanishedFileIsDroppedFromIndex) {
  openCache();
  ASSERT_TRUE(InsertSync(*cache_, "example.com/a/@v/v1.0.0.mod", okMeta(), "module a\n").ok());
  auto entry = cache_->lookup("example.com/a/@v/v1.0.0.mod");
  ASSERT_NE(entry, nullptr);
  ASSERT_EQ(::unlink(entry->path.c_str()), 0);  // deleted by hand
  std::string error;
  auto [fd, body] = readBody(entry, &error);
  EXPECT_EQ(fd, -1);
  EXPECT_FALSE(error.empty());
  EXPECT_EQ(cache_->lookup("example.com/a/@v/v1.0.0.mod"), nullptr);
  EXPECT_EQ(cache_->stats().bytes, 0u);
}

TEST_F(DiskCacheTest, RemoveForgetsAndDeletes) {
  openCache();
  auto committed = InsertSync(*cache_, "example.com/a/@v/list", okMeta(), "v1.0.0\n");
  ASSERT_TRUE(committed.ok());
  cache_->remove("example.com/a/@v/list");
  EXPECT_EQ(cache_->lookup("example.com/a/@v/list"), nullptr);
  EXPECT_TRUE(WaitFor([&] { return !FileExists((*committed)->path); }));
  CacheStats stats = cache_->stats();
  EXPECT_EQ(stats.entries, 0u);
  EXPECT_EQ(stats.bytes, 0u);
  EXPECT_EQ(stats.hot_bytes, 0u);
  cache_->remove("example.com/not/there");  // harmless
}

TEST_F(DiskCacheTest, HotBodiesStayWithinBudget) {
  options_.hot_object_max_bytes = 1000;
  options_.hot_total_max_bytes = 2500;
  openCache();
  for (char c : std::string("abcd")) {
    ASSERT_TRUE(
        InsertSync(*cache_, std::string("small-") + c, okMeta(), std::string(1000, c)).ok());
  }
  ASSERT_TRUE(InsertSync(*cache_, "large", okMeta(), std::string(1001, 'L')).ok());
  CacheStats stats = cache_->stats();
  EXPECT_EQ(stats.hot_entries, 2u);
  EXPECT_EQ(stats.hot_bytes, 2000u);
  // The two most recent small bodies are in memory; the oldest were dropped
  // from memory, not from the cache.
  EXPECT_NE(cache_->lookup("small-d")->hot_body, nullptr);
  EXPECT_NE(cache_->lookup("small-c")->hot_body, nullptr);
  EXPECT_EQ(cache_->lookup("large")->hot_body, nullptr);
  auto a = cache_->lookup("small-a");
  ASSERT_NE(a, nullptr);
  EXPECT_EQ(a->hot_body, nullptr);
  // That hit loads it for the next one (the least recent hot body makes room).
  ASSERT_TRUE(WaitFor([&] { return cache_->lookup("small-a")->hot_body != nullptr; }));
  EXPECT_EQ(*cache_->lookup("small-a")->hot_body, std::string(1000, 'a'));
  EXPECT_LE(cache_->stats().hot_bytes, 2500u);
  EXPECT_EQ(cache_->lookup("large")->hot_body, nullptr);  // never hot

  // After a restart bodies are loaded lazily, on first hit.
  openCache();
  EXPECT_EQ(cache_->stats().hot_bytes, 0u);
  EXPECT_EQ(cache_->lookup("small-b")->hot_body, nullptr);
  ASSERT_TRUE(WaitFor([&] { return cache_->lookup("small-b")->hot_body != nullptr; }));
  EXPECT_EQ(*cache_->lookup("small-b")->hot_body, std::string(1000, 'b'));
}

TEST_F(DiskCacheTest, EmptyNegativeEntryIsHot) {
  openCache();
  EntryMeta meta;
  meta.status = 410;
  meta.expires_at_unix_ms = NowUnixMs() + 60000;
  ASSERT_TRUE(InsertSync(*cache_, "example.com/x/@latest", meta, "").ok());
  auto entry = cache_->lookup("example.com/x/@latest");
  ASSERT_NE(entry, nullptr);
  EXPECT_EQ(entry->meta.status, 410);
  EXPECT_EQ(entry->meta.body_size, 0u);
  ASSERT_NE(entry->hot_body, nullptr);
  EXPECT_TRUE(entry->hot_body->empty());
  auto [fd, body] = readBody(entry, nullptr);
  EXPECT_GE(fd, 0);
  EXPECT_EQ(body, "");
}

TEST_F(DiskCacheTest, InvalidKeysAreRefused) {
  openCache();
  for (std::string key :
       {std::string(""), std::string("/etc/passwd"), std::string("a/../b"), std::string("a//b"),
        std::string("a/b/"), std::string("a/./b"), std::string(".."), std::string("a\0b", 3)}) {
    EXPECT_EQ(cache_->beginWrite(key), nullptr) << key;
    auto result = InsertSync(*cache_, key, okMeta(), "x");
    EXPECT_EQ(result.status().code(), absl::StatusCode::kInvalidArgument) << key;
    EXPECT_EQ(cache_->lookup(key), nullptr);
  }
}

TEST_F(DiskCacheTest, SecondOpenOfSameDirectoryFails) {
  openCache();
  auto second = DiskCache::open(options_, pool_);
  EXPECT_EQ(second.status().code(), absl::StatusCode::kFailedPrecondition);
}

TEST_F(DiskCacheTest, ConcurrentWritersAndReaders) {
  options_.max_bytes = 20 * 1200;  // forces evictions while threads race
  openCache();
  std::vector<std::thread> threads;
  std::atomic<int> failures{0};
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 100; ++i) {
        std::string key = "k/" + std::to_string((i * 7 + t) % 50);
        std::string body(1000 + i, static_cast<char>('a' + t));
        if (!InsertSync(*cache_, key, okMeta(), body).ok()) failures++;
        auto entry = cache_->lookup("k/" + std::to_string(i % 50));
        if (entry != nullptr && entry->hot_body != nullptr &&
            entry->hot_body->size() != entry->meta.body_size) {
          failures++;
        }
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(failures.load(), 0);
  CacheStats stats = cache_->stats();
  EXPECT_LE(stats.bytes, options_.max_bytes);
  // The index agrees with the disk after a restart.
  openCache();
  EXPECT_EQ(cache_->stats().entries, stats.entries);
  EXPECT_EQ(cache_->stats().bytes, stats.bytes);
}

}  // namespace
}  // namespace modgate::cache
