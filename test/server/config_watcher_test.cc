#include "source/server/config_watcher.h"

#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>

#include "gtest/gtest.h"
#include "source/common/event/dispatcher_impl.h"

namespace modgate::server {
namespace {

namespace fs = std::filesystem;

class ConfigWatcherTest : public testing::Test {
 protected:
  void SetUp() override {
    const char* tmp = getenv("TEST_TMPDIR");
    dir_ = fs::path(tmp != nullptr ? tmp : "/tmp") /
           ("watcher." + std::to_string(getpid()) + "." +
            testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  void write(const fs::path& path, const std::string& text) {
    std::ofstream(path, std::ios::trunc) << text;
  }

  // Runs the loop for `ms`, then returns how many callbacks came.
  int runFor(int ms) {
    auto stop = dispatcher_.createTimer([this] { dispatcher_.exit(); });
    stop->enableTimer(std::chrono::milliseconds(ms));
    dispatcher_.run();
    int n = calls_;
    calls_ = 0;
    return n;
  }

  // Runs the loop until `n` callbacks came (10 s at most: the debounce is
  // 50 ms, but a busy machine may run the loop late), then 150 ms more to
  // catch a surplus one; returns how many came in all.
  int runUntilCalls(int n) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    event::TimerPtr tick;
    tick = dispatcher_.createTimer([&] {
      if (calls_ >= n || std::chrono::steady_clock::now() >= deadline) {
        dispatcher_.exit();
        return;
      }
      tick->enableTimer(std::chrono::milliseconds(5));
    });
    tick->enableTimer(std::chrono::milliseconds(5));
    dispatcher_.run();
    const int got = calls_;
    calls_ = 0;
    return got + runFor(150);
  }

  std::unique_ptr<ConfigWatcher> watch(const fs::path& path) {
    auto watcher = ConfigWatcher::create(
        dispatcher_, path.string(), [this] { ++calls_; }, std::chrono::milliseconds(50));
    EXPECT_TRUE(watcher.ok()) << watcher.status();
    return watcher.ok() ? std::move(*watcher) : nullptr;
  }

  fs::path dir_;
  event::DispatcherImpl dispatcher_{"test"};
  int calls_ = 0;
};

TEST_F(ConfigWatcherTest, InPlaceWriteBurstIsOneCall) {
  write(dir_ / "config.yaml", "a: 1\n");
  auto watcher = watch(dir_ / "config.yaml");
  EXPECT_EQ(runFor(100), 0);
  for (int i = 0; i < 5; ++i) write(dir_ / "config.yaml", "a: " + std::to_string(i) + "\n");
  EXPECT_EQ(runUntilCalls(1), 1);
}

TEST_F(ConfigWatcherTest, RenameOverIsSeen) {
  write(dir_ / "config.yaml", "a: 1\n");
  auto watcher = watch(dir_ / "config.yaml");
  write(dir_ / ".config.yaml.tmp", "a: 2\n");
  EXPECT_EQ(runFor(150), 0);  // another name in the directory
  fs::rename(dir_ / ".config.yaml.tmp", dir_ / "config.yaml");
  EXPECT_EQ(runUntilCalls(1), 1);
}

TEST_F(ConfigWatcherTest, OtherFilesAreIgnored) {
  write(dir_ / "config.yaml", "a: 1\n");
  auto watcher = watch(dir_ / "config.yaml");
  write(dir_ / "modgate.log", "line\n");
  write(dir_ / "config.yaml.bak", "a: 1\n");
  EXPECT_EQ(runFor(200), 0);
}

// A Kubernetes ConfigMap volume: config.yaml -> ..data/config.yaml, and
// ..data -> ..<timestamp>, swapped by renaming a new symlink over ..data.
TEST_F(ConfigWatcherTest, ConfigMapSymlinkSwapIsSeen) {
  fs::create_directories(dir_ / "..v1");
  write(dir_ / "..v1" / "config.yaml", "a: 1\n");
  fs::create_directory_symlink("..v1", dir_ / "..data");
  fs::create_symlink("..data/config.yaml", dir_ / "config.yaml");
  auto watcher = watch(dir_ / "config.yaml");

  fs::create_directories(dir_ / "..v2");
  write(dir_ / "..v2" / "config.yaml", "a: 2\n");
  EXPECT_EQ(runFor(150), 0);  // "..v2" is not a name that matters
  fs::create_directory_symlink("..v2", dir_ / "..data_tmp");
  fs::rename(dir_ / "..data_tmp", dir_ / "..data");
  EXPECT_EQ(runUntilCalls(1), 1);
}

TEST_F(ConfigWatcherTest, MissingDirectoryFails) {
  auto watcher =
      ConfigWatcher::create(dispatcher_, (dir_ / "nope" / "config.yaml").string(), [] {});
  EXPECT_FALSE(watcher.ok());
}

}  // namespace
}  // namespace modgate::server
