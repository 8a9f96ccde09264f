#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "source/common/event/dispatcher.h"

struct event;

namespace modgate::filesystem {

// Calls back (on the dispatcher) once after a burst of changes in one or more
// directories: names created, written, renamed or removed there that a
// directory's filter finds relevant. The call comes `debounce` after the last
// event of a burst, or `max_delay` after its first if events keep coming, so
// a steady trickle of writes cannot postpone it forever. Directories are
// watched, not files: editors save by renaming a new file over the old one,
// and a Kubernetes ConfigMap volume swaps a "..data" symlink, and neither
// changes the inode a file watch would follow. inotify on the dispatcher: one
// more event, no thread.
class DirectoryWatcher {
 public:
  using ChangedCb = std::function<void()>;
  // Whether an event for `name` (empty: the directory itself) matters.
  using NameFilter = std::function<bool(std::string_view name)>;
  struct Directory {
    std::string path;
    NameFilter relevant;
  };

  static absl::StatusOr<std::unique_ptr<DirectoryWatcher>> create(
      event::Dispatcher& dispatcher, std::vector<Directory> directories, ChangedCb on_changed,
      std::chrono::milliseconds debounce, std::chrono::milliseconds max_delay);

  // One directory, every name in it except dot-files other than "..data".
  static absl::StatusOr<std::unique_ptr<DirectoryWatcher>> create(
      event::Dispatcher& dispatcher, const std::string& directory, ChangedCb on_changed,
      std::chrono::milliseconds debounce, std::chrono::milliseconds max_delay);

  ~DirectoryWatcher();

 private:
  struct Watch {
    int descriptor;
    NameFilter relevant;
  };

  DirectoryWatcher(event::Dispatcher& dispatcher, int fd, ChangedCb on_changed,
                   std::chrono::milliseconds debounce, std::chrono::milliseconds max_delay)
      : dispatcher_(dispatcher),
        fd_(fd),
        on_changed_(std::move(on_changed)),
        debounce_(debounce),
        max_delay_(max_delay) {}
  static void onReadable(int fd, short, void* arg);
  void readEvents();
  bool relevant(int descriptor, std::string_view name) const;
  void fire();

  event::Dispatcher& dispatcher_;
  const int fd_;
  ChangedCb on_changed_;
  const std::chrono::milliseconds debounce_;
  const std::chrono::milliseconds max_delay_;
  std::vector<Watch> watches_;
  ::event* event_ = nullptr;
  event::TimerPtr timer_;
  // The first event of the burst not yet reported.
  std::optional<event::MonotonicTime> burst_start_;
};

}  // namespace modgate::filesystem
