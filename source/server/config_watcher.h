#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "source/common/event/dispatcher.h"
#include "source/common/filesystem/directory_watcher.h"

namespace modgate::server {

// Calls back (on the dispatcher) shortly after a config file (or a
// certificate, a credentials file) may have changed: a DirectoryWatcher on
// the file's directory that only cares about the file's name and "..data"
// (a Kubernetes ConfigMap volume's swapped symlink), plus the directory of
// the final target when the path is a symlink elsewhere. A burst of events
// (a write in several parts, a rename dance) is one call. The callback
// decides whether anything really changed (the server compares the file's
// hash with the running one).
class ConfigWatcher {
 public:
  using ChangedCb = std::function<void()>;

  static absl::StatusOr<std::unique_ptr<ConfigWatcher>> create(
      event::Dispatcher& dispatcher, const std::string& path, ChangedCb on_changed,
      std::chrono::milliseconds debounce = std::chrono::milliseconds(100));

 private:
  explicit ConfigWatcher(std::unique_ptr<filesystem::DirectoryWatcher> watcher)
      : watcher_(std::move(watcher)) {}

  std::unique_ptr<filesystem::DirectoryWatcher> watcher_;
};

}  // namespace modgate::server
