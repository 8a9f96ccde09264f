#pragma once

#include <atomic>
#include <mutex>
#include <thread>
#include <vector>

#include "source/common/event/dispatcher.h"

struct event;

namespace modgate::event {

// Dispatcher over a libevent event_base. Cross-thread posts go through a
// mutex-guarded queue and an eventfd that wakes the loop; libevent itself is
// never touched from another thread (libevent_core has no locking).
class DispatcherImpl : public Dispatcher {
 public:
  explicit DispatcherImpl(std::string name);
  ~DispatcherImpl() override;

  const std::string& name() const override { return name_; }
  event_base& base() override { return *base_; }
  TimerPtr createTimer(TimerCb cb) override;
  void deferredDelete(DeferredDeletablePtr object) override;
  void post(std::function<void()> cb) override;
  void run() override;
  void exit() override;
  bool isThreadSafe() const override;
  MonotonicTime now() override;

 private:
  static void onWakeup(int fd, short events, void* arg);
  static void onDeferredDelete(int fd, short events, void* arg);
  void runPostCallbacks();
  void clearDeferredDeleteList();

  const std::string name_;
  event_base* base_;
  int wakeup_fd_;
  ::event* wakeup_event_;
  ::event* deferred_delete_event_;
  std::mutex post_lock_;
  std::vector<std::function<void()>> post_callbacks_;
  std::vector<DeferredDeletablePtr> to_delete_;
  std::atomic<std::thread::id> run_thread_id_{};
  std::atomic<bool> exit_requested_{false};
};

}  // namespace modgate::event
