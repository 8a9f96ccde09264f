#include "source/common/event/dispatcher_impl.h"

#include <atomic>
#include <thread>

#include "gtest/gtest.h"

namespace modgate::event {
namespace {

TEST(DispatcherImplTest, PostRunsOnTheLoopThreadInOrder) {
  DispatcherImpl dispatcher("test");
  std::vector<int> seen;
  std::thread::id loop_thread;
  std::thread runner([&] {
    loop_thread = std::this_thread::get_id();
    dispatcher.run();
  });
  std::thread poster([&] {
    for (int i = 0; i < 100; ++i) dispatcher.post([&seen, i] { seen.push_back(i); });
    dispatcher.post([&] {
      EXPECT_TRUE(dispatcher.isThreadSafe());
      dispatcher.exit();
    });
  });
  poster.join();
  runner.join();
  ASSERT_EQ(seen.size(), 100u);
  for (int i = 0; i < 100; ++i) EXPECT_EQ(seen[i], i);
}

TEST(DispatcherImplTest, ExitBeforeRunStillStops) {
  DispatcherImpl dispatcher("test");
  dispatcher.exit();
  dispatcher.run();  // returns at once instead of hanging
  SUCCEED();
}

TEST(DispatcherImplTest, TimerFiresAndCanBeDisabled) {
  DispatcherImpl dispatcher("test");
  int fired = 0;
  TimerPtr never = dispatcher.createTimer([&] { ++fired; });
  never->enableTimer(std::chrono::milliseconds(5));
  never->disableTimer();
  EXPECT_FALSE(never->enabled());
  TimerPtr stop = dispatcher.createTimer([&] {
    ++fired;
    dispatcher.exit();
  });
  stop->enableTimer(std::chrono::milliseconds(20));
  dispatcher.run();
  EXPECT_EQ(fired, 1);
}

class Tracked : public DeferredDeletable {
 public:
  explicit Tracked(std::atomic<int>& deleted) : deleted_(deleted) {}
  ~Tracked() override { ++deleted_; }

 private:
  std::atomic<int>& deleted_;
};

TEST(DispatcherImplTest, DeferredDeleteWaitsForTheCurrentCallback) {
  DispatcherImpl dispatcher("test");
  std::atomic<int> deleted{0};
  dispatcher.post([&] {
    dispatcher.deferredDelete(std::make_unique<Tracked>(deleted));
    // Still alive while this callback runs.
    EXPECT_EQ(deleted.load(), 0);
    dispatcher.post([&] {
      EXPECT_EQ(deleted.load(), 1);
      dispatcher.exit();
    });
  });
  dispatcher.run();
  EXPECT_EQ(deleted.load(), 1);
}

}  // namespace
}  // namespace modgate::event
