#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "source/common/event/dispatcher.h"

struct event;

namespace modgate::filesystem {

// Calls back (on the dispatcher) once after a burst of changes in one
// directory: files created, written, renamed or removed there. Names that
// start with '.' are ignored except "..data", the symlink a Kubernetes
// ConfigMap volume swaps atomically on an update (the files themselves are
// symlinks through it and never change). The call comes `debounce` after
// the last event of a burst, or `max_delay` after its first if events keep
// coming. inotify on the dispatcher: no thread.
class DirectoryWatcher {
 public:
  using ChangedCb = std::function<void()>;

  static absl::StatusOr<std::unique_ptr<DirectoryWatcher>> create(
      event::Dispatcher& dispatcher, const std::string& directory, ChangedCb on_changed,
      std::chrono::milliseconds debounce, std::chrono::milliseconds max_delay);
  ~DirectoryWatcher();

 private:
  DirectoryWatcher(event::Dispatcher& dispatcher, int fd, ChangedCb on_changed,
                   std::chrono::milliseconds debounce, std::chrono::milliseconds max_delay)
      : dispatcher_(dispatcher),
        fd_(fd),
        on_changed_(std::move(on_changed)),
        debounce_(debounce),
        max_delay_(max_delay) {}
  static void onReadable(int fd, short, void* arg);
  void readEvents();
  void fire();

  event::Dispatcher& dispatcher_;
  const int fd_;
  ChangedCb on_changed_;
  const std::chrono::milliseconds debounce_;
  const std::chrono::milliseconds max_delay_;
  ::event* event_ = nullptr;
  event::TimerPtr timer_;
  // The first event of the burst not yet reported.
  std::optional<event::MonotonicTime> burst_start_;
};

}  // namespace modgate::filesystem
