#include "source/common/filesystem/directory_watcher.h"

#include <event2/event.h>
#include <sys/inotify.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "absl/strings/str_cat.h"

namespace modgate::filesystem {
namespace {

constexpr uint32_t kMask = IN_CLOSE_WRITE | IN_MODIFY | IN_MOVED_TO | IN_MOVED_FROM | IN_CREATE |
                           IN_DELETE | IN_ATTRIB | IN_ONLYDIR;

bool VisibleOrConfigMapData(std::string_view name) {
  return name.empty() || name[0] != '.' || name == "..data";
}

}  // namespace

absl::StatusOr<std::unique_ptr<DirectoryWatcher>> DirectoryWatcher::create(
    event::Dispatcher& dispatcher, std::vector<Directory> directories, ChangedCb on_changed,
    std::chrono::milliseconds debounce, std::chrono::milliseconds max_delay) {
  int fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
  if (fd < 0) return absl::InternalError(absl::StrCat("inotify_init1: ", strerror(errno)));
  std::unique_ptr<DirectoryWatcher> watcher(
      new DirectoryWatcher(dispatcher, fd, std::move(on_changed), debounce, max_delay));
  for (auto& directory : directories) {
    int wd = inotify_add_watch(fd, directory.path.c_str(), kMask);
    if (wd < 0) {
      return absl::InvalidArgumentError(
          absl::StrCat("cannot watch ", directory.path, " (inotify): ", strerror(errno)));
    }
    watcher->watches_.push_back(Watch{wd, std::move(directory.relevant)});
  }
  watcher->timer_ = dispatcher.createTimer([raw = watcher.get()] { raw->fire(); });
  watcher->event_ = event_new(&dispatcher.base(), fd, EV_READ | EV_PERSIST,
                              &DirectoryWatcher::onReadable, watcher.get());
  event_add(watcher->event_, nullptr);
  return watcher;
}

absl::StatusOr<std::unique_ptr<DirectoryWatcher>> DirectoryWatcher::create(
    event::Dispatcher& dispatcher, const std::string& directory, ChangedCb on_changed,
    std::chrono::milliseconds debounce, std::chrono::milliseconds max_delay) {
  return create(dispatcher, {Directory{directory, VisibleOrConfigMapData}}, std::move(on_changed),
                debounce, max_delay);
}

DirectoryWatcher::~DirectoryWatcher() {
  if (event_ != nullptr) event_free(event_);
  ::close(fd_);
}

void DirectoryWatcher::onReadable(int, short, void* arg) {
  static_cast<DirectoryWatcher*>(arg)->readEvents();
}

bool DirectoryWatcher::relevant(int descriptor, std::string_view name) const {
  for (const auto& watch : watches_) {
    if (watch.descriptor == descriptor && watch.relevant(name)) return true;
  }
  return false;
}

void DirectoryWatcher::readEvents() {
  alignas(inotify_event) char buffer[16 * 1024];
  bool changed = false;
  for (;;) {
    ssize_t n = ::read(fd_, buffer, sizeof(buffer));
    if (n <= 0) break;  // EAGAIN: drained
    for (ssize_t offset = 0; offset < n;) {
      const auto* ev = reinterpret_cast<const inotify_event*>(buffer + offset);
      offset += sizeof(inotify_event) + ev->len;
      // IN_Q_OVERFLOW: events were lost, look anyway.
      if ((ev->mask & IN_Q_OVERFLOW) != 0 ||
          relevant(ev->wd, ev->len > 0 ? std::string_view(ev->name) : std::string_view())) {
        changed = true;
      }
    }
  }
  if (!changed) return;
  const event::MonotonicTime now = dispatcher_.now();
  if (!burst_start_) burst_start_ = now;
  const auto waited = std::chrono::duration_cast<std::chrono::milliseconds>(now - *burst_start_);
  // Each event pushes the call back, but never beyond max_delay.
  timer_->enableTimer(
      std::max(std::chrono::milliseconds(0), std::min(debounce_, max_delay_ - waited)));
}

void DirectoryWatcher::fire() {
  burst_start_.reset();
  on_changed_();
}

}  // namespace modgate::filesystem
