#include "source/filters/goproxy/zip_body_hasher.h"

#include <memory>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "source/cache/disk_cache.h"
#include "source/cache/inflight_table.h"
#include "source/common/common/thread_pool.h"
#include "test/cache/test_util.h"
#include "test/sumdb/fixture.h"

namespace modgate::filters::goproxy {
namespace {

using cache::test::DispatcherThread;
using cache::test::Notification;

using sumdb::testing::kErrorsZipHash;
using sumdb::testing::kErrorsZipPath;

// A zip body fed into a real cache fill (temp file, writer on the pool)
// and hashed as it is written, as VerifyingSink does.
class ZipBodyHasherTest : public ::testing::Test {
 protected:
  ZipBodyHasherTest() : pool_("zip-body-hasher-test", 4), worker_("worker") {
    cache::DiskCacheOptions options;
    options.dir = cache::test::NewTestDir("zip_body_hasher");
    options.fsync = false;
    auto cache = cache::DiskCache::open(options, pool_);
    EXPECT_TRUE(cache.ok()) << cache.status();
    cache_ = *std::move(cache);
  }

  std::shared_ptr<cache::Inflight> startBody(const std::string& key) {
    bool created;
    auto inflight = table_.join(key, created);
    cache::EntryMeta meta;
    meta.status = 200;
    meta.content_type = "application/zip";
    inflight->start(meta, cache_->beginWrite(key), cache::Inflight::Hold::kWhole);
    return inflight;
  }

  struct Result {
    absl::StatusOr<std::string> hash = absl::UnknownError("no answer");
    bool file_pass = false;
    Notification done;
  };

  // Appends `body` in `chunk`-byte pieces on the worker, telling the hasher
  // of each, then finishes; waits for the answer.
  void hashBody(const std::string& body, size_t chunk, Result& result) {
    auto inflight = startBody("example.com/m/@v/v1.0.0-" + std::to_string(++bodies_) + ".zip");
    std::unique_ptr<ZipBodyHasher> hasher;
    worker_.runSync(
        [&] { hasher = std::make_unique<ZipBodyHasher>(inflight, &pool_, worker_.dispatcher()); });
    for (size_t at = 0; at < body.size(); at += chunk) {
      const std::string piece = body.substr(at, chunk);
      worker_.runSync([&] {
        buffer::Buffer data;
        data.add(piece);
        inflight->append(data);
        hasher->onReceived(piece.size());
      });
    }
    worker_.runSync([&] {
      hasher->finish(body.size(), [&](absl::StatusOr<std::string> hash, bool file_pass) {
        EXPECT_TRUE(worker_.dispatcher().isThreadSafe());
        result.hash = std::move(hash);
        result.file_pass = file_pass;
        result.done.Notify();
      });
    });
    ASSERT_TRUE(result.done.WaitForNotificationWithTimeout(std::chrono::seconds(60)));
    worker_.runSync([&] { hasher.reset(); });
    inflight->fail("test over");
  }

  common::ThreadPool pool_;
  DispatcherThread worker_;
  std::unique_ptr<cache::Cache> cache_;
  cache::InflightTable table_;
  int bodies_ = 0;
};

TEST_F(ZipBodyHasherTest, RealZipIsHashedAsItStreams) {
  SKIP_WITHOUT_FIXTURE();
  const std::string zip =
      sumdb::testing::readFile(sumdb::testing::fixtureOrigin() + kErrorsZipPath);
  for (size_t chunk : {size_t{1000}, size_t{4096}, zip.size()}) {
    Result result;
    hashBody(zip, chunk, result);
    ASSERT_TRUE(result.hash.ok()) << result.hash.status();
    EXPECT_EQ(*result.hash, kErrorsZipHash) << chunk;
    EXPECT_FALSE(result.file_pass) << chunk;
  }
}

TEST_F(ZipBodyHasherTest, DisagreeingCentralDirectoryFallsBackToTheFilePass) {
  SKIP_WITHOUT_FIXTURE();
  Result result;
  hashBody(sumdb::testing::tamperedErrorsZip(), 4096, result);
  ASSERT_TRUE(result.hash.ok()) << result.hash.status();
  EXPECT_EQ(*result.hash, sumdb::testing::kTamperedErrorsZipHash);
  EXPECT_TRUE(result.file_pass);
}

TEST_F(ZipBodyHasherTest, NotAZipIsTheFilePassError) {
  Result result;
  hashBody(std::string(100000, 'x'), 7000, result);
  EXPECT_FALSE(result.hash.ok());
  EXPECT_TRUE(result.file_pass);
}

TEST_F(ZipBodyHasherTest, DestroyedMidBodyNeverAnswers) {
  SKIP_WITHOUT_FIXTURE();
  // A discarded body: its hasher goes away with reads under way; nothing
  // runs for it afterwards.
  const std::string zip =
      sumdb::testing::readFile(sumdb::testing::fixtureOrigin() + kErrorsZipPath);
  auto inflight = startBody("example.com/m/@v/v1.0.0-discarded.zip");
  std::unique_ptr<ZipBodyHasher> hasher;
  worker_.runSync(
      [&] { hasher = std::make_unique<ZipBodyHasher>(inflight, &pool_, worker_.dispatcher()); });
  bool answered = false;
  worker_.runSync([&] {
    buffer::Buffer data;
    data.add(zip);
    inflight->append(data);
    hasher->onReceived(zip.size());
    hasher->finish(zip.size(), [&](absl::StatusOr<std::string>, bool) { answered = true; });
    hasher.reset();
    inflight->discard();
  });
  // Let the pool and the worker drain what was queued.
  for (int i = 0; i < 20; ++i) {
    Notification idle;
    pool_.post([&] { idle.Notify(); });
    idle.WaitForNotification();
    worker_.runSync([] {});
  }
  worker_.runSync([&] { EXPECT_FALSE(answered); });
  inflight->fail("test over");
}

}  // namespace
}  // namespace modgate::filters::goproxy
