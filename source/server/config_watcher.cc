#include "source/server/config_watcher.h"

#include <event2/event.h>
#include <limits.h>
#include <stdlib.h>
#include <sys/inotify.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

#include "absl/strings/str_cat.h"

namespace modgate::server {
namespace {

constexpr uint32_t kMask =
    IN_CLOSE_WRITE | IN_MODIFY | IN_MOVED_TO | IN_MOVED_FROM | IN_CREATE | IN_DELETE | IN_ATTRIB;

std::pair<std::string, std::string> splitPath(const std::string& path) {
  std::filesystem::path p(path);
  std::string dir = p.parent_path().string();
  return {dir.empty() ? "." : dir, p.filename().string()};
}

}  // namespace

absl::StatusOr<std::unique_ptr<ConfigWatcher>> ConfigWatcher::create(
    event::Dispatcher& dispatcher, const std::string& path, ChangedCb on_changed,
    std::chrono::milliseconds debounce) {
  int fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
  if (fd < 0) return absl::InternalError(absl::StrCat("inotify_init1: ", strerror(errno)));
  std::unique_ptr<ConfigWatcher> watcher(new ConfigWatcher(fd, std::move(on_changed), debounce));

  // The path as given: its name, and "..data" for a Kubernetes volume whose
  // files are symlinks through that swapped directory link.
  auto [dir, name] = splitPath(path);
  std::vector<std::pair<std::string, std::vector<std::string>>> wanted = {{dir, {name, "..data"}}};
  // A symlink elsewhere: its target's directory too (an edit there).
  char resolved[PATH_MAX];
  if (realpath(path.c_str(), resolved) != nullptr) {
    auto [real_dir, real_name] = splitPath(resolved);
    char dir_resolved[PATH_MAX];
    if (realpath(dir.c_str(), dir_resolved) == nullptr || real_dir != dir_resolved) {
      wanted.push_back({real_dir, {real_name}});
    }
  }
  for (auto& [watch_dir, names] : wanted) {
    int wd = inotify_add_watch(fd, watch_dir.c_str(), kMask | IN_ONLYDIR);
    if (wd < 0) {
      return absl::InvalidArgumentError(
          absl::StrCat("cannot watch ", watch_dir, " (inotify): ", strerror(errno)));
    }
    watcher->watches_.push_back(Watch{wd, std::move(names)});
  }
  watcher->timer_ = dispatcher.createTimer([raw = watcher.get()] { raw->on_changed_(); });
  watcher->event_ = event_new(&dispatcher.base(), fd, EV_READ | EV_PERSIST,
                              &ConfigWatcher::onReadable, watcher.get());
  event_add(watcher->event_, nullptr);
  return watcher;
}

ConfigWatcher::~ConfigWatcher() {
  if (event_ != nullptr) event_free(event_);
  ::close(fd_);
}

void ConfigWatcher::onReadable(int, short, void* arg) {
  static_cast<ConfigWatcher*>(arg)->readEvents();
}

void ConfigWatcher::readEvents() {
  alignas(inotify_event) char buffer[16 * 1024];
  bool relevant = false;
  for (;;) {
    ssize_t n = ::read(fd_, buffer, sizeof(buffer));
    if (n <= 0) break;  // EAGAIN: drained
    for (ssize_t offset = 0; offset < n;) {
      const auto* ev = reinterpret_cast<const inotify_event*>(buffer + offset);
      offset += sizeof(inotify_event) + ev->len;
      if (ev->mask & IN_Q_OVERFLOW) {
        relevant = true;  // events were lost: look anyway
        continue;
      }
      if (ev->len == 0) continue;
      const std::string name(ev->name);
      for (const auto& watch : watches_) {
        if (watch.descriptor != ev->wd) continue;
        for (const auto& wanted : watch.names) relevant = relevant || wanted == name;
      }
    }
  }
  // Each relevant event pushes the call back: one call per burst.
  if (relevant) timer_->enableTimer(debounce_);
}

}  // namespace modgate::server
