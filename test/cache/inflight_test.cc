#include "source/cache/inflight.h"

#include <dirent.h>
#include <unistd.h>

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "gtest/gtest.h"
#include "source/cache/disk_cache.h"
#include "source/cache/inflight_table.h"
#include "source/common/common/thread_pool.h"
#include "test/cache/test_util.h"

namespace modgate::cache {
namespace {

using test::DispatcherThread;
using test::PatternBytes;
using test::WaitFor;

constexpr uint64_t kMiB = 1 << 20;

// A request waiting on a fetch: reads each newly available range from the
// temp file through Buffer::addFile, as the response path does.
class Waiter : public InflightCallbacks {
 public:
  Waiter(DispatcherThread& thread, std::shared_ptr<Inflight> inflight,
         uint64_t unsubscribe_after = UINT64_MAX)
      : thread_(thread), inflight_(std::move(inflight)), unsubscribe_after_(unsubscribe_after) {}
  ~Waiter() override { unsubscribe(); }

  void subscribe() {
    thread_.runSync([this] { subscription_ = inflight_->subscribe(thread_.dispatcher(), *this); });
  }
  void unsubscribe() {
    thread_.runSync([this] { subscription_.reset(); });
  }

  void onHeaders(const EntryMeta& meta) override {
    EXPECT_TRUE(thread_.dispatcher().isThreadSafe());
    EXPECT_EQ(headers_count_, 0);
    EXPECT_EQ(notifications_, 0);
    ++headers_count_;
    headers_ = meta;
  }

  void onBytesAvailable(uint64_t total) override {
    EXPECT_TRUE(thread_.dispatcher().isThreadSafe());
    EXPECT_EQ(headers_count_, 1);
    EXPECT_GT(total, sent_.load());
    if (notifications_++ == 0) first_available_ = total;
    int fd = inflight_->dupReadFd();
    ASSERT_GE(fd, 0);
    buffer::Buffer data;
    ASSERT_TRUE(data.addFile(fd, static_cast<off_t>(inflight_->bodyOffset() + sent_.load()),
                             total - sent_.load()));
    received_ += data.toString();
    sent_.store(total);
    // Leaving from inside a callback: nothing may run after this.
    if (total >= unsubscribe_after_) subscription_.reset();
  }

  void onComplete(std::shared_ptr<const Entry> entry) override {
    EXPECT_TRUE(thread_.dispatcher().isThreadSafe());
    EXPECT_EQ(headers_count_, 1);
    EXPECT_FALSE(done_.HasBeenNotified());
    entry_ = std::move(entry);
    done_.Notify();
  }

  void onFailed(std::string_view reason) override {
    EXPECT_TRUE(thread_.dispatcher().isThreadSafe());
    EXPECT_FALSE(done_.HasBeenNotified());
    failure_ = std::string(reason);
    done_.Notify();
  }

  bool waitDone() { return done_.WaitForNotificationWithTimeout(std::chrono::seconds(60)); }

  DispatcherThread& thread_;
  std::shared_ptr<Inflight> inflight_;
  const uint64_t unsubscribe_after_;
  std::unique_ptr<Subscription> subscription_;
  // Written on the waiter's dispatcher; read by the test after done_ or
  // through runSync.
  int headers_count_ = 0;
  EntryMeta headers_;
  int notifications_ = 0;
  uint64_t first_available_ = 0;
  std::atomic<uint64_t> sent_{0};
  std::string received_;
  std::shared_ptr<const Entry> entry_;
  std::string failure_;
  test::Notification done_;
};

class InflightTest : public testing::Test {
 protected:
  InflightTest() : pool_("inflight-test", 4) {
    options_.dir = test::NewTestDir("inflight");
    options_.max_bytes = 256 * kMiB;
    options_.fsync = false;  // keeps 20 MiB tests quick; commits are still atomic
    auto cache = DiskCache::open(options_, pool_);
    EXPECT_TRUE(cache.ok()) << cache.status();
    cache_ = *std::move(cache);
    for (int i = 0; i < 3; ++i) {
      threads_.push_back(std::make_unique<DispatcherThread>("worker" + std::to_string(i)));
    }
  }

  EntryMeta zipMeta(uint64_t expected_size = 0) {
    EntryMeta meta;
    meta.status = 200;
    meta.content_type = "application/zip";
    meta.body_size = expected_size;
    return meta;
  }

  // Appends `size` pattern bytes in 64 KiB chunks, pausing while the disk
  // queue is over 8 MiB, and calling `at_mark` once after `mark` bytes.
  void appendPattern(Inflight& inflight, uint64_t from, uint64_t size,
                     const std::function<void()>& at_mark = nullptr, uint64_t mark = 0) {
    constexpr uint64_t kChunk = 64 << 10;
    for (uint64_t off = from; off < from + size; off += kChunk) {
      uint64_t n = std::min(kChunk, from + size - off);
      buffer::Buffer data;
      data.add(PatternBytes(off, n));
      inflight.append(data);
      while (inflight.pendingWriteBytes() > 8 * kMiB) {
        std::this_thread::sleep_for(std::chrono::microseconds(100));
      }
      if (at_mark && off + n >= mark && off < mark) at_mark();
    }
  }

  // Waits until whenWritten says the first `bytes` are in the file.
  bool waitWritten(Inflight& inflight, uint64_t bytes) {
    test::Notification written;
    inflight.whenWritten(bytes, [&](absl::Status status) {
      EXPECT_TRUE(status.ok()) << status;
      written.Notify();
    });
    return written.WaitForNotificationWithTimeout(std::chrono::seconds(60));
  }

  // A fetch whose cache write will fail: the temp directory vanishing
  // stands in for a full or broken disk (expectWriteFailureReported puts it
  // back).
  std::shared_ptr<Inflight> joinWithBrokenDisk(const std::string& key) {
    EXPECT_EQ(::rmdir(tempDir().c_str()), 0);
    bool created;
    return table_.join(key, created);
  }

  // The waiter heard the failure and no body; nothing was cached; the entry
  // left the table; a late finish() is ignored.
  void expectWriteFailureReported(Waiter& waiter, Inflight& inflight, const std::string& key) {
    ASSERT_TRUE(waiter.waitDone());
    EXPECT_NE(waiter.failure_.find("cache write failed"), std::string::npos) << waiter.failure_;
    EXPECT_EQ(waiter.notifications_, 0);
    inflight.finish(zipMeta());
    EXPECT_EQ(table_.size(), 0u);
    EXPECT_EQ(cache_->lookup(key), nullptr);
    EXPECT_EQ(::mkdir(tempDir().c_str(), 0755), 0);
  }

  std::string tempDir() { return options_.dir + "/tmp"; }
  int tempFileCount() {
    DIR* d = ::opendir(tempDir().c_str());
    int n = 0;
    while (dirent* de = ::readdir(d)) n += de->d_name[0] != '.';
    ::closedir(d);
    return n;
  }

  common::ThreadPool pool_;
  DiskCacheOptions options_;
  std::unique_ptr<Cache> cache_;
  InflightTable table_;
  std::vector<std::unique_ptr<DispatcherThread>> threads_;
};

TEST_F(InflightTest, ThreeWaitersStreamOneFetch) {
  const std::string key = "example.com/big/@v/v1.0.0.zip";
  const uint64_t total = 20 * kMiB;
  const std::string expected = PatternBytes(0, total);

  bool created = false;
  std::shared_ptr<Inflight> inflight = table_.join(key, created);
  ASSERT_TRUE(created);
  std::vector<std::unique_ptr<Waiter>> waiters;
  for (auto& thread : threads_) {
    bool again = true;
    auto joined = table_.join(key, again);
    EXPECT_FALSE(again);
    EXPECT_EQ(joined, inflight);
    waiters.push_back(std::make_unique<Waiter>(*thread, joined));
    waiters.back()->subscribe();
  }

  std::thread fetcher([&] {
    inflight->start(zipMeta(total), cache_->beginWrite(key));
    appendPattern(
        *inflight, 0, total,
        [&] {
          // Every waiter hears of the first bytes long before the end.
          for (auto& w : waiters) {
            EXPECT_TRUE(WaitFor([&] { return w->sent_.load() > 0; }));
          }
        },
        kMiB);
    inflight->finish(zipMeta());
  });
  for (auto& w : waiters) ASSERT_TRUE(w->waitDone());
  fetcher.join();

  for (auto& w : waiters) {
    EXPECT_EQ(w->headers_count_, 1);
    EXPECT_EQ(w->headers_.status, 200);
    EXPECT_EQ(w->headers_.content_type, "application/zip");
    EXPECT_EQ(w->headers_.body_size, total);
    EXPECT_LE(w->first_available_, 2 * kMiB);
    EXPECT_GT(w->notifications_, 1);
    EXPECT_EQ(w->sent_.load(), total);
    EXPECT_EQ(w->received_.size(), expected.size());
    EXPECT_TRUE(w->received_ == expected);
    EXPECT_TRUE(w->failure_.empty());
    ASSERT_NE(w->entry_, nullptr);
    EXPECT_TRUE(w->entry_->stored());
    EXPECT_EQ(w->entry_->meta.body_size, total);
  }
  // The fetch is over: the table forgot it, the cache has it.
  EXPECT_EQ(table_.size(), 0u);
  EXPECT_EQ(table_.find(key), nullptr);
  auto entry = cache_->lookup(key);
  ASSERT_NE(entry, nullptr);
  EXPECT_EQ(entry->meta.body_size, total);
  EXPECT_EQ(entry->meta.content_type, "application/zip");
  EXPECT_EQ(tempFileCount(), 0);
  // The next miss starts a new fetch.
  bool created_again = false;
  auto next = table_.join(key, created_again);
  EXPECT_TRUE(created_again);
  EXPECT_NE(next, inflight);
  next->fail("not needed");
  EXPECT_EQ(table_.size(), 0u);
}

TEST_F(InflightTest, WaiterLeavingMidwayDoesNotStopOthers) {
  const std::string key = "example.com/mid/@v/v1.0.0.zip";
  const uint64_t total = 8 * kMiB;
  bool created;
  auto inflight = table_.join(key, created);
  Waiter stays0(*threads_[0], inflight);
  Waiter leaves(*threads_[1], inflight, /*unsubscribe_after=*/1);
  Waiter stays2(*threads_[2], inflight);
  stays0.subscribe();
  leaves.subscribe();
  stays2.subscribe();

  std::thread fetcher([&] {
    inflight->start(zipMeta(), cache_->beginWrite(key));
    appendPattern(
        *inflight, 0, total, [&] { EXPECT_TRUE(WaitFor([&] { return leaves.sent_.load() > 0; })); },
        kMiB);
    inflight->finish(zipMeta());
  });
  ASSERT_TRUE(stays0.waitDone());
  ASSERT_TRUE(stays2.waitDone());
  fetcher.join();
  const std::string expected = PatternBytes(0, total);
  EXPECT_TRUE(stays0.received_ == expected);
  EXPECT_TRUE(stays2.received_ == expected);
  // The one that left heard nothing after leaving. Sync with its thread
  // (posts already queued run first) before looking.
  threads_[1]->runSync([] {});
  threads_[1]->runSync([&] {
    EXPECT_EQ(leaves.notifications_, 1);
    EXPECT_LT(leaves.sent_.load(), total);
    EXPECT_FALSE(leaves.done_.HasBeenNotified());
  });
  EXPECT_NE(cache_->lookup(key), nullptr);
}

TEST_F(InflightTest, FailMidwayNotifiesEveryone) {
  const std::string key = "example.com/broken/@v/v1.0.0.zip";
  bool created;
  auto inflight = table_.join(key, created);
  std::vector<std::unique_ptr<Waiter>> waiters;
  for (auto& thread : threads_) {
    waiters.push_back(std::make_unique<Waiter>(*thread, inflight));
    waiters.back()->subscribe();
  }
  std::string temp_path;
  std::thread fetcher([&] {
    auto writer = cache_->beginWrite(key);
    temp_path = writer->tempPath();
    inflight->start(zipMeta(), std::move(writer));
    appendPattern(*inflight, 0, 2 * kMiB);
    for (auto& w : waiters) EXPECT_TRUE(WaitFor([&] { return w->sent_.load() > 0; }));
    EXPECT_FALSE(inflight->terminated());
    inflight->fail("upstream reset the connection");
    EXPECT_TRUE(inflight->terminated());
    // Later fetcher calls are ignored.
    buffer::Buffer more;
    more.add("ignored");
    inflight->append(more);
    inflight->finish(zipMeta());
  });
  for (auto& w : waiters) ASSERT_TRUE(w->waitDone());
  fetcher.join();
  for (auto& w : waiters) {
    EXPECT_EQ(w->headers_count_, 1);  // had started: must reset its response
    EXPECT_EQ(w->failure_, "upstream reset the connection");
    EXPECT_EQ(w->entry_, nullptr);
  }
  EXPECT_EQ(table_.size(), 0u);
  EXPECT_EQ(cache_->lookup(key), nullptr);
  EXPECT_TRUE(WaitFor([&] { return !test::FileExists(temp_path); }));

  // Someone still holding the Inflight who subscribes now hears the outcome.
  Waiter late(*threads_[0], inflight);
  late.subscribe();
  ASSERT_TRUE(late.waitDone());
  EXPECT_EQ(late.headers_count_, 0);
  EXPECT_EQ(late.failure_, "upstream reset the connection");
}

TEST_F(InflightTest, FailBeforeHeaders) {
  bool created;
  auto inflight = table_.join("example.com/slow/@latest", created);
  Waiter waiter(*threads_[0], inflight);
  waiter.subscribe();
  inflight->fail("upstream timeout");
  ASSERT_TRUE(waiter.waitDone());
  EXPECT_EQ(waiter.headers_count_, 0);  // can still answer 504
  EXPECT_EQ(waiter.failure_, "upstream timeout");
  EXPECT_EQ(table_.size(), 0u);
}

TEST_F(InflightTest, LateSubscriberCatchesUp) {
  const std::string key = "example.com/late/@v/v1.0.0.zip";
  bool created;
  auto inflight = table_.join(key, created);
  Waiter early(*threads_[0], inflight);
  early.subscribe();
  inflight->start(zipMeta(), cache_->beginWrite(key));
  appendPattern(*inflight, 0, 100000);
  ASSERT_TRUE(WaitFor([&] { return early.sent_.load() == 100000; }));

  Waiter late(*threads_[1], inflight);
  late.subscribe();
  ASSERT_TRUE(WaitFor([&] { return late.sent_.load() == 100000; }));
  threads_[1]->runSync([&] {
    EXPECT_EQ(late.headers_count_, 1);
    EXPECT_EQ(late.notifications_, 1);
    EXPECT_EQ(late.first_available_, 100000u);
  });

  appendPattern(*inflight, 100000, 50000);
  inflight->finish(zipMeta());
  ASSERT_TRUE(early.waitDone());
  ASSERT_TRUE(late.waitDone());
  EXPECT_TRUE(late.received_ == PatternBytes(0, 150000));
  EXPECT_TRUE(early.received_ == PatternBytes(0, 150000));

  // After completion, a subscriber gets everything at once.
  Waiter after(*threads_[2], inflight);
  after.subscribe();
  ASSERT_TRUE(after.waitDone());
  EXPECT_EQ(after.headers_count_, 1);
  EXPECT_EQ(after.notifications_, 1);
  EXPECT_TRUE(after.received_ == PatternBytes(0, 150000));
  ASSERT_NE(after.entry_, nullptr);
  EXPECT_TRUE(after.entry_->stored());
}

// A held body (one that must be verified first): waiters hear nothing until
// the commit, then get all of it with its final size; whenWritten says when
// the whole body is in the file.
TEST_F(InflightTest, HeldBodyIsAnnouncedOnlyWhenCommitted) {
  const std::string key = "example.com/held/@v/v1.0.0.zip";
  bool created;
  auto inflight = table_.join(key, created);
  Waiter early(*threads_[0], inflight);
  early.subscribe();
  inflight->start(zipMeta(), cache_->beginWrite(key), Inflight::Hold::kWhole);
  appendPattern(*inflight, 0, 300000);
  ASSERT_TRUE(waitWritten(*inflight, 300000));
  // The body is in the file, readable by the verifier...
  int fd = inflight->dupReadFd();
  ASSERT_GE(fd, 0);
  ::close(fd);
  // ...but no waiter, early or late, has heard of it.
  Waiter late(*threads_[1], inflight);
  late.subscribe();
  threads_[0]->runSync([&] { EXPECT_EQ(early.headers_count_, 0); });
  threads_[1]->runSync([&] { EXPECT_EQ(late.headers_count_, 0); });
  inflight->finish(zipMeta());
  ASSERT_TRUE(early.waitDone());
  ASSERT_TRUE(late.waitDone());
  EXPECT_EQ(early.headers_.body_size, 300000u);
  EXPECT_TRUE(early.received_ == PatternBytes(0, 300000));
  EXPECT_TRUE(late.received_ == PatternBytes(0, 300000));
  ASSERT_NE(late.entry_, nullptr);
  EXPECT_TRUE(late.entry_->stored());
}

// A rejected held body is discarded (temp file gone) and another one
// streams into the same Inflight; a failure of a held one is an error
// before headers, so waiters can still answer 502.
TEST_F(InflightTest, HeldBodyCanBeDiscardedOrFailed) {
  const std::string key = "example.com/lied/@v/v1.0.0.zip";
  bool created;
  auto inflight = table_.join(key, created);
  Waiter waiter(*threads_[0], inflight);
  waiter.subscribe();
  inflight->start(zipMeta(), cache_->beginWrite(key), Inflight::Hold::kWhole);
  appendPattern(*inflight, 1000, 200000);  // other bytes than the final body
  EXPECT_TRUE(inflight->discard());
  ASSERT_TRUE(WaitFor([&] { return tempFileCount() == 0; }));
  inflight->start(zipMeta(), cache_->beginWrite(key), Inflight::Hold::kWhole);
  appendPattern(*inflight, 0, 100000);
  inflight->finish(zipMeta());
  ASSERT_TRUE(waiter.waitDone());
  EXPECT_EQ(waiter.headers_count_, 1);
  EXPECT_TRUE(waiter.received_ == PatternBytes(0, 100000));
  EXPECT_FALSE(inflight->discard());  // no longer held

  auto second = table_.join("example.com/lied/@v/v1.0.0.mod", created);
  Waiter failed(*threads_[1], second);
  failed.subscribe();
  second->start(zipMeta(), cache_->beginWrite("example.com/lied/@v/v1.0.0.mod"),
                Inflight::Hold::kWhole);
  appendPattern(*second, 0, 1000);
  second->fail("checksum mismatch");
  ASSERT_TRUE(failed.waitDone());
  EXPECT_EQ(failed.headers_count_, 0);
  EXPECT_EQ(failed.failure_, "checksum mismatch");
  EXPECT_EQ(cache_->lookup("example.com/lied/@v/v1.0.0.mod"), nullptr);
}

TEST_F(InflightTest, LastWaiterLeavingDoesNotAbortTheFetch) {
  const std::string key = "example.com/orphan/@v/v1.0.0.zip";
  bool created;
  auto inflight = table_.join(key, created);
  {
    Waiter waiter(*threads_[0], inflight);
    waiter.subscribe();
    inflight->start(zipMeta(), cache_->beginWrite(key));
    appendPattern(*inflight, 0, 500000);
    ASSERT_TRUE(WaitFor([&] { return waiter.sent_.load() > 0; }));
  }  // the only waiter leaves
  appendPattern(*inflight, 500000, 500000);
  inflight->finish(zipMeta());
  ASSERT_TRUE(WaitFor([&] { return table_.size() == 0; }));
  auto entry = cache_->lookup(key);
  ASSERT_NE(entry, nullptr);
  EXPECT_EQ(entry->meta.body_size, 1000000u);
}

TEST_F(InflightTest, UncacheableAnswerIsServedFromMemory) {
  const std::string key = "example.com/flaky/@v/list";
  bool created;
  auto inflight = table_.join(key, created);
  Waiter a(*threads_[0], inflight), b(*threads_[1], inflight);
  a.subscribe();
  b.subscribe();
  inflight->failWithResponse(502, "upstream: 503 Service Unavailable\n");
  for (Waiter* w : {&a, &b}) {
    ASSERT_TRUE(w->waitDone());
    EXPECT_EQ(w->headers_count_, 1);
    EXPECT_EQ(w->headers_.status, 502);
    EXPECT_EQ(w->notifications_, 0);  // nothing on disk to read
    ASSERT_NE(w->entry_, nullptr);
    EXPECT_FALSE(w->entry_->stored());
    ASSERT_NE(w->entry_->hot_body, nullptr);
    EXPECT_EQ(*w->entry_->hot_body, "upstream: 503 Service Unavailable\n");
    EXPECT_EQ(w->entry_->meta.body_size, w->entry_->hot_body->size());
  }
  EXPECT_EQ(table_.size(), 0u);
  EXPECT_EQ(cache_->lookup(key), nullptr);
}

TEST_F(InflightTest, BodyTooLargeToCacheStillReachesWaiters) {
  cache_.reset();
  options_.max_bytes = 100000;
  auto cache = DiskCache::open(options_, pool_);
  ASSERT_TRUE(cache.ok());
  cache_ = *std::move(cache);

  const std::string key = "example.com/huge/@v/v1.0.0.zip";
  bool created;
  auto inflight = table_.join(key, created);
  Waiter waiter(*threads_[0], inflight);
  waiter.subscribe();
  inflight->start(zipMeta(), cache_->beginWrite(key));
  appendPattern(*inflight, 0, 300000);
  inflight->finish(zipMeta());
  ASSERT_TRUE(waiter.waitDone());
  ASSERT_NE(waiter.entry_, nullptr);
  EXPECT_FALSE(waiter.entry_->stored());
  EXPECT_EQ(waiter.entry_->meta.body_size, 300000u);
  EXPECT_TRUE(waiter.received_ == PatternBytes(0, 300000));
  EXPECT_EQ(cache_->lookup(key), nullptr);
  EXPECT_TRUE(WaitFor([&] { return tempFileCount() == 0; }));
}

// The waiter contract (inflight.h): a failure may reach a waiter before its
// headers. Which comes first depends only on whether the waiter's dispatcher
// ran the headers post before the write failed, so each order is forced here.
TEST_F(InflightTest, CacheWriteFailureAfterHeadersFailsTheWaiters) {
  const std::string key = "example.com/nodisk/@v/v1.0.0.zip";
  auto inflight = joinWithBrokenDisk(key);
  Waiter waiter(*threads_[0], inflight);
  waiter.subscribe();
  inflight->start(zipMeta(), cache_->beginWrite(key));
  // The headers are delivered before the first byte is appended.
  ASSERT_TRUE(WaitFor([&] {
    int headers = 0;
    threads_[0]->runSync([&] { headers = waiter.headers_count_; });
    return headers == 1;
  }));
  appendPattern(*inflight, 0, 100000);
  ASSERT_TRUE(waiter.waitDone());
  EXPECT_EQ(waiter.headers_count_, 1);
  EXPECT_TRUE(inflight->terminated());  // the fetcher stops reading upstream
  expectWriteFailureReported(waiter, *inflight, key);
}

TEST_F(InflightTest, CacheWriteFailureBeforeHeadersReachesTheWaiterAlone) {
  const std::string key = "example.com/nodisk/@v/v1.0.1.zip";
  auto inflight = joinWithBrokenDisk(key);
  Waiter waiter(*threads_[0], inflight);
  waiter.subscribe();
  // Hold the waiter's dispatcher so the headers post cannot run before the
  // write fails: the waiter then hears only the failure (and answers 502).
  test::Notification release;
  threads_[0]->dispatcher().post([&] { release.WaitForNotification(); });
  inflight->start(zipMeta(), cache_->beginWrite(key));
  appendPattern(*inflight, 0, 100000);
  ASSERT_TRUE(WaitFor([&] { return inflight->terminated(); }));
  release.Notify();
  ASSERT_TRUE(waiter.waitDone());
  EXPECT_EQ(waiter.headers_count_, 0);
  expectWriteFailureReported(waiter, *inflight, key);
}

TEST_F(InflightTest, TableSeparatesKeysAndOutlivesNothing) {
  bool created_a, created_b, created_a2;
  auto a = table_.join("k/a", created_a);
  auto b = table_.join("k/b", created_b);
  auto a2 = table_.join("k/a", created_a2);
  EXPECT_TRUE(created_a);
  EXPECT_TRUE(created_b);
  EXPECT_FALSE(created_a2);
  EXPECT_EQ(a, a2);
  EXPECT_NE(a, b);
  EXPECT_EQ(table_.size(), 2u);
  a->fail("x");
  EXPECT_EQ(table_.size(), 1u);
  EXPECT_EQ(table_.find("k/b"), b);
  {
    // An Inflight may end after its table is gone.
    InflightTable short_lived;
    bool created;
    auto c = short_lived.join("k/c", created);
    b = c;
  }
  b->fail("y");
}

// finish() of a held body means its verifier accepted it: the waiters get
// the whole body then, while the commit (fsync, rename) is still to run,
// as an unheld body's waiters would; the commit's outcome comes after.
TEST_F(InflightTest, HeldBodyIsReleasedAtFinishBeforeTheCommit) {
  for (Inflight::Hold hold : {Inflight::Hold::kWhole, Inflight::Hold::kLastByte}) {
    const std::string key = hold == Inflight::Hold::kWhole ? "example.com/released/@v/v1.0.0.zip"
                                                           : "example.com/released/@v/v1.0.1.zip";
    bool created;
    auto inflight = table_.join(key, created);
    Waiter waiter(*threads_[0], inflight);
    waiter.subscribe();
    inflight->start(zipMeta(300000), cache_->beginWrite(key), hold);
    appendPattern(*inflight, 0, 300000);
    ASSERT_TRUE(waitWritten(*inflight, 300000));
    // Every pool thread busy: the commit cannot run until they are freed.
    test::Notification unblock;
    std::atomic<int> blocked{0};
    for (int i = 0; i < 4; ++i) {
      pool_.post([&] {
        ++blocked;
        unblock.WaitForNotification();
      });
    }
    ASSERT_TRUE(WaitFor([&] { return blocked.load() == 4; }));
    inflight->finish(zipMeta(300000));
    ASSERT_TRUE(WaitFor([&] { return waiter.sent_.load() == 300000; }));
    threads_[0]->runSync([&] {
      EXPECT_EQ(waiter.headers_count_, 1);
      EXPECT_EQ(waiter.headers_.body_size, 300000u);
      EXPECT_FALSE(waiter.done_.HasBeenNotified());
    });
    unblock.Notify();
    ASSERT_TRUE(waiter.waitDone());
    EXPECT_TRUE(waiter.received_ == PatternBytes(0, 300000));
    ASSERT_NE(waiter.entry_, nullptr);
    EXPECT_TRUE(waiter.entry_->stored());
  }
}

// A body verified while it streams (Hold::kLastByte): waiters get the
// headers and every byte but the last as it is written, early and late
// subscribers alike; the last byte comes with the commit, so no client has
// the body complete before the verifier accepted it.
TEST_F(InflightTest, LastByteHeldBodyStreamsAllButTheLastByte) {
  const std::string key = "example.com/streamed/@v/v1.0.0.zip";
  bool created;
  auto inflight = table_.join(key, created);
  Waiter early(*threads_[0], inflight);
  early.subscribe();
  inflight->start(zipMeta(300000), cache_->beginWrite(key), Inflight::Hold::kLastByte);
  appendPattern(*inflight, 0, 300000);
  ASSERT_TRUE(WaitFor([&] { return early.sent_.load() == 299999; }));
  Waiter late(*threads_[1], inflight);
  late.subscribe();
  ASSERT_TRUE(WaitFor([&] { return late.sent_.load() == 299999; }));
  threads_[0]->runSync([&] {
    EXPECT_EQ(early.headers_count_, 1);
    EXPECT_EQ(early.headers_.body_size, 300000u);
    EXPECT_FALSE(early.done_.HasBeenNotified());
  });
  inflight->finish(zipMeta());
  ASSERT_TRUE(early.waitDone());
  ASSERT_TRUE(late.waitDone());
  EXPECT_TRUE(early.received_ == PatternBytes(0, 300000));
  EXPECT_TRUE(late.received_ == PatternBytes(0, 300000));
  ASSERT_NE(early.entry_, nullptr);
  EXPECT_TRUE(early.entry_->stored());
}

// A streamed body the verifier rejects: the waiters that saw part of it
// fail (a client gets a reset, never a body that ends as if complete), the
// temp file goes, and the next body (the next upstream's) streams to new
// waiters and commits. fail() after streaming fails the streamed waiters.
TEST_F(InflightTest, LastByteHeldBodyDiscardFailsStreamedWaiters) {
  const std::string key = "example.com/rejected/@v/v1.0.0.zip";
  bool created;
  auto inflight = table_.join(key, created);
  Waiter streamed(*threads_[0], inflight);
  streamed.subscribe();
  inflight->start(zipMeta(), cache_->beginWrite(key), Inflight::Hold::kLastByte);
  appendPattern(*inflight, 1000, 200000);
  ASSERT_TRUE(WaitFor([&] { return streamed.sent_.load() == 199999; }));
  EXPECT_TRUE(inflight->discard());
  ASSERT_TRUE(streamed.waitDone());
  EXPECT_FALSE(streamed.failure_.empty());
  EXPECT_EQ(streamed.entry_, nullptr);
  ASSERT_TRUE(WaitFor([&] { return tempFileCount() == 0; }));

  Waiter next(*threads_[1], inflight);
  next.subscribe();
  inflight->start(zipMeta(), cache_->beginWrite(key), Inflight::Hold::kLastByte);
  appendPattern(*inflight, 0, 100000);
  inflight->finish(zipMeta());
  ASSERT_TRUE(next.waitDone());
  EXPECT_EQ(next.headers_count_, 1);
  EXPECT_TRUE(next.received_ == PatternBytes(0, 100000));
  ASSERT_NE(next.entry_, nullptr);
  EXPECT_TRUE(next.entry_->stored());

  const std::string other = "example.com/rejected/@v/v1.1.0.zip";
  auto second = table_.join(other, created);
  Waiter failed(*threads_[2], second);
  failed.subscribe();
  second->start(zipMeta(), cache_->beginWrite(other), Inflight::Hold::kLastByte);
  appendPattern(*second, 0, 1000);
  ASSERT_TRUE(WaitFor([&] { return failed.sent_.load() == 999; }));
  second->fail("checksum mismatch");
  ASSERT_TRUE(failed.waitDone());
  EXPECT_EQ(failed.headers_count_, 1);
  EXPECT_EQ(failed.failure_, "checksum mismatch");
  EXPECT_EQ(cache_->lookup(other), nullptr);
}

}  // namespace
}  // namespace modgate::cache
