#include "source/server/config_watcher.h"

#include <limits.h>
#include <stdlib.h>

#include <algorithm>
#include <filesystem>
#include <vector>

namespace modgate::server {
namespace {

// A steady trickle of writes still reloads this often.
constexpr std::chrono::milliseconds kMaxDelay(2000);

std::pair<std::string, std::string> splitPath(const std::string& path) {
  std::filesystem::path p(path);
  std::string dir = p.parent_path().string();
  return {dir.empty() ? "." : dir, p.filename().string()};
}

filesystem::DirectoryWatcher::NameFilter oneOf(std::vector<std::string> names) {
  return [names = std::move(names)](std::string_view name) {
    return std::find(names.begin(), names.end(), name) != names.end();
  };
}

}  // namespace

absl::StatusOr<std::unique_ptr<ConfigWatcher>> ConfigWatcher::create(
    event::Dispatcher& dispatcher, const std::string& path, ChangedCb on_changed,
    std::chrono::milliseconds debounce) {
  // The path as given: its name, and "..data" for a Kubernetes volume whose
  // files are symlinks through that swapped directory link.
  auto [dir, name] = splitPath(path);
  std::vector<filesystem::DirectoryWatcher::Directory> directories = {
      {dir, oneOf({name, "..data"})}};
  // A symlink elsewhere: its target's directory too (an edit there).
  char resolved[PATH_MAX];
  if (realpath(path.c_str(), resolved) != nullptr) {
    auto [real_dir, real_name] = splitPath(resolved);
    char dir_resolved[PATH_MAX];
    if (realpath(dir.c_str(), dir_resolved) == nullptr || real_dir != dir_resolved) {
      directories.push_back({real_dir, oneOf({real_name})});
    }
  }
  auto watcher = filesystem::DirectoryWatcher::create(dispatcher, std::move(directories),
                                                      std::move(on_changed), debounce,
                                                      std::max(debounce, kMaxDelay));
  if (!watcher.ok()) return watcher.status();
  return std::unique_ptr<ConfigWatcher>(new ConfigWatcher(std::move(*watcher)));
}

}  // namespace modgate::server
