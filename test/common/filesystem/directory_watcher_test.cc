#include "source/common/filesystem/directory_watcher.h"

#include <gtest/gtest.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <thread>

#include "source/common/event/dispatcher_impl.h"

namespace modgate::filesystem {
namespace {

namespace fs = std::filesystem;

// Runs the dispatcher until `calls` reaches `want` (bounded).
void runUntil(event::DispatcherImpl& dispatcher, std::atomic<int>& calls, int want) {
  auto poll = dispatcher.createTimer([] {});
  for (int i = 0; i < 400 && calls.load() < want; ++i) {
    poll->enableTimer(std::chrono::milliseconds(25));
    // One loop pass at a time: exit() makes run() return after it.
    dispatcher.post([&dispatcher] { dispatcher.exit(); });
    dispatcher.run();
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
}

TEST(DirectoryWatcherTest, BurstIsOneCallAndConfigMapSwapIsSeen) {
  const fs::path dir = fs::path(::testing::TempDir()) / "watched";
  fs::remove_all(dir);
  fs::create_directories(dir / "..2026_1");
  std::ofstream(dir / "..2026_1" / "config.yaml") << "a: 1\n";
  fs::create_directory_symlink("..2026_1", dir / "..data");
  fs::create_symlink("..data/config.yaml", dir / "config.yaml");

  event::DispatcherImpl dispatcher("watcher-test");
  std::atomic<int> calls{0};
  auto watcher = DirectoryWatcher::create(
      dispatcher, dir.string(), [&calls] { calls++; }, std::chrono::milliseconds(50),
      std::chrono::milliseconds(2000));
  ASSERT_TRUE(watcher.ok()) << watcher.status();

  // A burst of writes: one call.
  for (int i = 0; i < 5; ++i) std::ofstream(dir / "other.yaml") << "b: " << i << "\n";
  runUntil(dispatcher, calls, 1);
  EXPECT_EQ(calls.load(), 1);

  // Activity in a hidden name alone is ignored ...
  std::ofstream(dir / ".scratch") << "x";
  // ... but the kubelet's atomic update is seen: new timestamped dir, a
  // ..data_tmp link renamed over ..data.
  fs::create_directories(dir / "..2026_2");
  std::ofstream(dir / "..2026_2" / "config.yaml") << "a: 2\n";
  fs::create_directory_symlink("..2026_2", dir / "..data_tmp");
  fs::rename(dir / "..data_tmp", dir / "..data");
  runUntil(dispatcher, calls, 2);
  EXPECT_EQ(calls.load(), 2);
  std::ifstream in(dir / "config.yaml");
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_EQ(text, "a: 2\n");
}

}  // namespace
}  // namespace modgate::filesystem
