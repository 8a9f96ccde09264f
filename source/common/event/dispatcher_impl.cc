#include "source/common/event/dispatcher_impl.h"

#include <event2/event.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <cstdlib>

namespace modgate::event {
namespace {

class TimerImpl : public Timer {
 public:
  TimerImpl(event_base& base, TimerCb cb) : cb_(std::move(cb)) {
    event_ = evtimer_new(&base, &TimerImpl::onFire, this);
  }
  ~TimerImpl() override { event_free(event_); }

  void enableTimer(std::chrono::milliseconds delay) override {
    timeval tv;
    tv.tv_sec = delay.count() / 1000;
    tv.tv_usec = (delay.count() % 1000) * 1000;
    evtimer_add(event_, &tv);
  }
  void disableTimer() override { evtimer_del(event_); }
  bool enabled() const override { return evtimer_pending(event_, nullptr) != 0; }

 private:
  static void onFire(int, short, void* arg) { static_cast<TimerImpl*>(arg)->cb_(); }

  TimerCb cb_;
  ::event* event_;
};

}  // namespace

DispatcherImpl::DispatcherImpl(std::string name) : name_(std::move(name)) {
  // Sockets are edge-triggered and learn of a peer's FIN with EPOLLRDHUP
  // (network::SocketConnection): insist on a backend that does both (epoll).
  event_config* config = event_config_new();
  if (config == nullptr) abort();
  event_config_require_features(config, EV_FEATURE_ET | EV_FEATURE_O1 | EV_FEATURE_EARLY_CLOSE);
  base_ = event_base_new_with_config(config);
  event_config_free(config);
  if (base_ == nullptr) abort();
  wakeup_fd_ = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (wakeup_fd_ < 0) abort();
  wakeup_event_ =
      event_new(base_, wakeup_fd_, EV_READ | EV_PERSIST, &DispatcherImpl::onWakeup, this);
  event_add(wakeup_event_, nullptr);
  deferred_delete_event_ = event_new(base_, -1, 0, &DispatcherImpl::onDeferredDelete, this);
}

DispatcherImpl::~DispatcherImpl() {
  clearDeferredDeleteList();
  event_free(deferred_delete_event_);
  event_free(wakeup_event_);
  close(wakeup_fd_);
  event_base_free(base_);
}

TimerPtr DispatcherImpl::createTimer(TimerCb cb) {
  return std::make_unique<TimerImpl>(*base_, std::move(cb));
}

void DispatcherImpl::deferredDelete(DeferredDeletablePtr object) {
  to_delete_.push_back(std::move(object));
  if (to_delete_.size() == 1) {
    event_active(deferred_delete_event_, 0, 0);
  }
}

void DispatcherImpl::onDeferredDelete(int, short, void* arg) {
  static_cast<DispatcherImpl*>(arg)->clearDeferredDeleteList();
}

void DispatcherImpl::clearDeferredDeleteList() {
  // Destructors may defer more deletions; loop until quiet.
  while (!to_delete_.empty()) {
    std::vector<DeferredDeletablePtr> batch;
    batch.swap(to_delete_);
    batch.clear();
  }
}

void DispatcherImpl::post(std::function<void()> cb) {
  bool was_empty;
  {
    std::lock_guard<std::mutex> guard(post_lock_);
    was_empty = post_callbacks_.empty();
    post_callbacks_.push_back(std::move(cb));
  }
  if (was_empty) {
    uint64_t one = 1;
    // A full counter still wakes the loop; the result needs no check.
    [[maybe_unused]] ssize_t rc = ::write(wakeup_fd_, &one, sizeof(one));
  }
}

void DispatcherImpl::onWakeup(int fd, short, void* arg) {
  uint64_t count;
  [[maybe_unused]] ssize_t rc = ::read(fd, &count, sizeof(count));
  static_cast<DispatcherImpl*>(arg)->runPostCallbacks();
}

void DispatcherImpl::runPostCallbacks() {
  std::vector<std::function<void()>> callbacks;
  {
    std::lock_guard<std::mutex> guard(post_lock_);
    callbacks.swap(post_callbacks_);
  }
  for (auto& cb : callbacks) cb();
  if (exit_requested_.load()) event_base_loopbreak(base_);
}

void DispatcherImpl::run() {
  run_thread_id_ = std::this_thread::get_id();
  // An exit() that came before run() still counts.
  if (!exit_requested_.exchange(false)) {
    event_base_loop(base_, EVLOOP_NO_EXIT_ON_EMPTY);
  }
  exit_requested_ = false;
  runPostCallbacks();
  clearDeferredDeleteList();
}

void DispatcherImpl::exit() {
  exit_requested_ = true;
  post([] {});
}

bool DispatcherImpl::isThreadSafe() const {
  return run_thread_id_.load() == std::this_thread::get_id();
}

MonotonicTime DispatcherImpl::now() { return std::chrono::steady_clock::now(); }

}  // namespace modgate::event
