#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "source/common/event/dispatcher.h"

struct event;

namespace modgate::server {

// Calls back (on the dispatcher) shortly after the config file may have
// changed. It watches the file's directory with inotify, not the file:
// editors save by writing a new file and renaming it over the old one, and
// a Kubernetes ConfigMap volume swaps a "..data" symlink, and neither
// changes the inode a file watch would follow. Events for other names in
// the directory are ignored; a burst of events (a write in several parts, a
// rename dance) is collapsed into one call `debounce` after the last one.
// The callback decides whether anything really changed (the server compares
// the file's hash with the running one).
//
// The inotify descriptor is one more event on the dispatcher: no thread.
class ConfigWatcher {
 public:
  using ChangedCb = std::function<void()>;

  // `path` as given on the command line. If it is a symlink, the directory
  // of its final target is watched too.
  static absl::StatusOr<std::unique_ptr<ConfigWatcher>> create(
      event::Dispatcher& dispatcher, const std::string& path, ChangedCb on_changed,
      std::chrono::milliseconds debounce = std::chrono::milliseconds(100));
  ~ConfigWatcher();

 private:
  struct Watch {
    int descriptor;
    std::vector<std::string> names;  // the basenames that matter there
  };

  ConfigWatcher(int fd, ChangedCb on_changed, std::chrono::milliseconds debounce)
      : fd_(fd), on_changed_(std::move(on_changed)), debounce_(debounce) {}
  static void onReadable(int fd, short, void* arg);
  void readEvents();

  const int fd_;
  ChangedCb on_changed_;
  const std::chrono::milliseconds debounce_;
  std::vector<Watch> watches_;
  ::event* event_ = nullptr;
  event::TimerPtr timer_;
};

}  // namespace modgate::server
