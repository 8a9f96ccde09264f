// One budget of bytes waiting for the disk per worker, over real fetches from
// a real origin on 127.0.0.1 (test/upstream/test_origin.py): the disk here
// is a test double that the test blocks and drains on the worker's own
// dispatcher, so what waits for it is known exactly.

#include "source/filters/goproxy/disk_backlog.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <memory>
#include <string>
#include <vector>

#include "api/modgate/config/v1/bootstrap.pb.h"
#include "source/common/common/thread_pool.h"
#include "source/common/event/dispatcher_impl.h"
#include "source/common/stats/stats.h"
#include "source/filters/goproxy/worker_context.h"
#include "source/upstream/cluster/cluster_manager.h"
#include "test/upstream/test_support.h"

namespace modgate::filters::goproxy {
namespace {

using upstream::testing::OriginProcess;
using upstream::testing::runFor;
using upstream::testing::runUntil;

constexpr uint64_t kBudget = 1 << 20;
// The most one read event hands a fetch (SocketConnection's
// kMaxReadPerEvent).
constexpr uint64_t kOneRead = 256 << 10;

// One cached file being written: what its fetch handed over and the disk
// has not written yet, and what was written, checked against the origin's
// pattern (byte i is i % 251). Outlives its sink, as the cache's queued
// writes outlive a fetch.
struct DiskFile {
  buffer::Buffer queued;
  uint64_t written = 0;
  bool pattern_ok = true;
  // A file the disk does not write while blocked.
  bool blocked = false;
  // Written as it arrives: nothing of it ever waits.
  bool write_through = false;
  cache::SharedPendingBytes counted_in;
  bool complete = false;
  uint64_t total = 0;
  std::string failure;

  bool finished() const { return complete || !failure.empty(); }

  void write(uint64_t most) {
    const uint64_t length = std::min<uint64_t>(most, queued.length());
    buffer::Buffer bytes;
    bytes.move(queued, length);
    const std::string text = bytes.toString();
    for (size_t i = 0; i < text.size(); ++i) {
      if (static_cast<uint8_t>(text[i]) != (written + i) % 251) pattern_ok = false;
    }
    written += length;
    if (counted_in != nullptr) counted_in->fetch_sub(length);
  }
};

// A slow disk: every millisecond it writes up to 64 KiB of each file that
// is not blocked.
class SlowDisk {
 public:
  explicit SlowDisk(event::Dispatcher& dispatcher)
      : timer_(dispatcher.createTimer([this] { tick(); })) {
    timer_->enableTimer(std::chrono::milliseconds(1));
  }

  DiskFile& newFile() { return *files_.emplace_back(std::make_unique<DiskFile>()); }
  // The most the worker total was seen at, right after each delivery.
  uint64_t max_total = 0;

 private:
  void tick() {
    for (auto& file : files_) {
      if (!file->blocked) file->write(64 << 10);
    }
    timer_->enableTimer(std::chrono::milliseconds(1));
  }

  std::vector<std::unique_ptr<DiskFile>> files_;
  event::TimerPtr timer_;
};

class SlowDiskSink : public FetchSink {
 public:
  SlowDiskSink(SlowDisk& disk, DiskFile& file) : disk_(disk), file_(file) {}

  void onFetchStart(int64_t) override {}
  void onFetchData(buffer::Buffer& data) override {
    const uint64_t length = data.length();
    file_.queued.move(data);
    if (file_.counted_in != nullptr) {
      file_.counted_in->fetch_add(length);
      disk_.max_total = std::max(disk_.max_total, file_.counted_in->load());
    }
    if (file_.write_through) file_.write(length);
  }
  void onFetchComplete(uint64_t total_bytes) override {
    file_.complete = true;
    file_.total = total_bytes;
  }
  void onFetchNotFound(int status, std::string reason) override {
    file_.failure = std::to_string(status) + " " + reason;
  }
  void onFetchFailed(int status, std::string reason) override {
    file_.failure = std::to_string(status) + " " + reason;
  }
  uint64_t pendingBytes() const override { return file_.queued.length(); }
  void countPendingIn(cache::SharedPendingBytes total) override {
    file_.counted_in = std::move(total);
  }

 private:
  SlowDisk& disk_;
  DiskFile& file_;
};

class DiskBacklogTest : public ::testing::Test {
 protected:
  void SetUp() override {
    origin_ = OriginProcess::start({});
    ASSERT_NE(origin_, nullptr);
    config::v1::Bootstrap bootstrap;
    auto* cluster = bootstrap.add_clusters();
    cluster->set_name("origin");
    cluster->add_endpoints()->set_url("http://127.0.0.1:" + std::to_string(origin_->port()));
    auto manager = upstream::ClusterManager::create(bootstrap, stats_);
    ASSERT_TRUE(manager.ok()) << manager.status();
    manager_ = *std::move(manager);
    manager_->start(dispatcher_, file_pool_);
    for (const auto& [name, cluster] : manager_->clusters()) {
      worker_.clusters().update(cluster, manager_->currentFactory(name));
    }
  }

  void fetch(DiskFile& file, size_t size) {
    Fetch::Target target;
    target.chain.push_back(router::ChainStep{manager_->get("origin")});
    target.paths.push_back("/big?size=" + std::to_string(size));
    target.kind = modgate::goproxy::RequestKind::kZip;
    worker_.startFetch(std::move(target), std::make_unique<SlowDiskSink>(disk_, file), kBudget);
  }

  event::DispatcherImpl dispatcher_{"test"};
  common::ThreadPool file_pool_{"test-files", 1};
  stats::Stats stats_;
  std::unique_ptr<OriginProcess> origin_;
  std::unique_ptr<upstream::ClusterManager> manager_;
  WorkerContext worker_{dispatcher_, file_pool_, 1, 16};
  SlowDisk disk_{dispatcher_};
};

// Two fills whose disk is stuck stop together at about the budget between
// them (not a budget each); a third whose bytes never wait is not held up
// by them; once the disk moves every body arrives whole, the worker total
// staying within the budget and one read, and it returns to zero.
TEST_F(DiskBacklogTest, OneBudgetForAllFetchesOfAWorker) {
  constexpr size_t kBig = 6 << 20;
  DiskFile& first = disk_.newFile();
  DiskFile& second = disk_.newFile();
  first.blocked = second.blocked = true;
  fetch(first, kBig);
  fetch(second, kBig);

  // Both stop reading: the total goes over the budget and stays put.
  ASSERT_TRUE(runUntil(dispatcher_, [&] { return worker_.pendingDiskBytes() > kBudget; }));
  runFor(dispatcher_, std::chrono::milliseconds(300));
  const uint64_t stuck_total = worker_.pendingDiskBytes();
  const uint64_t stuck_first = first.queued.length();
  const uint64_t stuck_second = second.queued.length();
  EXPECT_EQ(stuck_total, stuck_first + stuck_second);
  EXPECT_LE(stuck_total, kBudget + kOneRead);
  EXPECT_GT(stuck_first, 0u);
  EXPECT_GT(stuck_second, 0u);
  EXPECT_EQ(worker_.diskBacklog()->readers(), 0u);
  runFor(dispatcher_, std::chrono::milliseconds(200));
  EXPECT_EQ(first.queued.length(), stuck_first);
  EXPECT_EQ(second.queued.length(), stuck_second);

  // A fetch with nothing queued is never paused, over budget or not.
  DiskFile& through = disk_.newFile();
  through.write_through = true;
  fetch(through, 3 << 20);
  ASSERT_TRUE(runUntil(dispatcher_, [&] { return through.finished(); }));
  EXPECT_TRUE(through.complete) << through.failure;
  EXPECT_EQ(through.written, 3u << 20);
  EXPECT_TRUE(through.pattern_ok);
  EXPECT_EQ(first.queued.length(), stuck_first);
  EXPECT_EQ(second.queued.length(), stuck_second);
  EXPECT_GT(worker_.pendingDiskBytes(), kBudget);

  // The disk moves: every paused fetch resumes and finishes.
  first.blocked = second.blocked = false;
  ASSERT_TRUE(runUntil(dispatcher_, [&] {
    return first.finished() && second.finished() && first.queued.length() == 0 &&
           second.queued.length() == 0;
  }));
  for (DiskFile* file : {&first, &second}) {
    EXPECT_TRUE(file->complete) << file->failure;
    EXPECT_EQ(file->total, kBig);
    EXPECT_EQ(file->written, kBig);
    EXPECT_TRUE(file->pattern_ok);
  }
  // While draining, a fetch whose own bytes are all written reads once more
  // even if the other's still hold the total over the budget.
  RecordProperty("max_total", std::to_string(disk_.max_total));
  EXPECT_LE(disk_.max_total, kBudget + 2 * kOneRead);
  EXPECT_EQ(worker_.pendingDiskBytes(), 0u);
  EXPECT_EQ(worker_.activeFetches(), 0u);
  EXPECT_EQ(worker_.diskBacklog()->readers(), 0u);
}

// Many fills through a disk that keeps up only slowly: bodies arrive whole,
// the total ends at zero (no drift), and it never passes the budget by more
// than one read per fetch. A fetch reads once more while it has nothing
// queued (it never waits then), as all of them do when they start together.
TEST_F(DiskBacklogTest, ManySlowFillsShareTheBudget) {
  constexpr size_t kSize = 3 << 20;
  constexpr int kFetches = 6;
  std::vector<DiskFile*> files;
  for (int i = 0; i < kFetches; ++i) {
    files.push_back(&disk_.newFile());
    fetch(*files.back(), kSize);
  }
  ASSERT_TRUE(runUntil(dispatcher_, [&] {
    return std::all_of(files.begin(), files.end(), [](const DiskFile* file) {
      return file->finished() && file->queued.length() == 0;
    });
  }));
  for (const DiskFile* file : files) {
    EXPECT_TRUE(file->complete) << file->failure;
    EXPECT_EQ(file->written, kSize);
    EXPECT_TRUE(file->pattern_ok);
  }
  RecordProperty("max_total", std::to_string(disk_.max_total));
  EXPECT_GT(disk_.max_total, kBudget / 2);
  EXPECT_LE(disk_.max_total, kBudget + kFetches * kOneRead);
  EXPECT_EQ(worker_.pendingDiskBytes(), 0u);
  EXPECT_EQ(worker_.activeFetches(), 0u);
}

}  // namespace
}  // namespace modgate::filters::goproxy
