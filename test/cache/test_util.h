#pragma once

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "absl/status/statusor.h"
#include "source/cache/cache.h"
#include "source/common/event/dispatcher_impl.h"

namespace modgate::cache::test {

// Notification on std::mutex: Debian's abseil is not built with
// ThreadSanitizer, so its Mutex is opaque to TSan; pthread-based locks are not.
class Notification {
 public:
  void Notify() {
    std::lock_guard<std::mutex> lock(mu_);
    notified_ = true;
    cv_.notify_all();
  }
  bool HasBeenNotified() const {
    std::lock_guard<std::mutex> lock(mu_);
    return notified_;
  }
  void WaitForNotification() {
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait(lock, [this] { return notified_; });
  }
  bool WaitForNotificationWithTimeout(std::chrono::milliseconds timeout) {
    std::unique_lock<std::mutex> lock(mu_);
    return cv_.wait_for(lock, timeout, [this] { return notified_; });
  }

 private:
  mutable std::mutex mu_;
  std::condition_variable cv_;
  bool notified_ = false;
};

// A real dispatcher running on its own thread, as a worker would.
class DispatcherThread {
 public:
  explicit DispatcherThread(std::string name) : dispatcher_(std::move(name)) {
    thread_ = std::thread([this] { dispatcher_.run(); });
  }
  ~DispatcherThread() {
    // exit() from inside the loop: an exit() that lands before run() starts
    // is lost (run() clears the flag).
    dispatcher_.post([this] { dispatcher_.exit(); });
    thread_.join();
  }

  event::Dispatcher& dispatcher() { return dispatcher_; }

  // Runs `fn` on the dispatcher thread and waits for it.
  void runSync(const std::function<void()>& fn) {
    Notification done;
    dispatcher_.post([&] {
      fn();
      done.Notify();
    });
    done.WaitForNotification();
  }

 private:
  event::DispatcherImpl dispatcher_;
  std::thread thread_;
};

// A fresh directory under $TEST_TMPDIR.
inline std::string NewTestDir(const std::string& name) {
  const char* base = std::getenv("TEST_TMPDIR");
  static int counter = 0;
  std::string dir = std::string(base != nullptr ? base : "/tmp") + "/" + name + "-" +
                    std::to_string(::getpid()) + "-" + std::to_string(counter++);
  ::mkdir(dir.c_str(), 0755);
  return dir;
}

inline absl::StatusOr<std::shared_ptr<const Entry>> CommitSync(EntryWriter& writer,
                                                               EntryMeta meta) {
  Notification done;
  absl::StatusOr<std::shared_ptr<const Entry>> result;
  writer.commit(std::move(meta), [&](absl::StatusOr<std::shared_ptr<const Entry>> r) {
    result = std::move(r);
    done.Notify();
  });
  done.WaitForNotification();
  return result;
}

inline absl::StatusOr<std::shared_ptr<const Entry>> InsertSync(Cache& cache, std::string_view key,
                                                               EntryMeta meta, std::string body) {
  Notification done;
  absl::StatusOr<std::shared_ptr<const Entry>> result;
  cache.insertSmall(key, std::move(meta), std::move(body),
                    [&](absl::StatusOr<std::shared_ptr<const Entry>> r) {
                      result = std::move(r);
                      done.Notify();
                    });
  done.WaitForNotification();
  return result;
}

// Reads up to `limit` bytes of `fd` from its current position, then closes
// it.
inline std::string ReadAndClose(int fd, size_t limit) {
  std::string out;
  char buf[65536];
  while (out.size() < limit) {
    ssize_t n = ::read(fd, buf, std::min(sizeof(buf), limit - out.size()));
    if (n <= 0) break;
    out.append(buf, static_cast<size_t>(n));
  }
  ::close(fd);
  return out;
}

inline bool FileExists(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0;
}

// Polls `cond` for up to `timeout`.
inline bool WaitFor(const std::function<bool()>& cond,
                    std::chrono::milliseconds timeout = std::chrono::seconds(60)) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (cond()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  return cond();
}

// Deterministic, position-dependent bytes: a misplaced chunk shows up.
inline std::string PatternBytes(uint64_t offset, size_t length) {
  std::string out(length, '\0');
  for (size_t i = 0; i < length; ++i) {
    uint64_t x = offset + i;
    out[i] = static_cast<char>((x * 2654435761u) >> 13);
  }
  return out;
}

}  // namespace modgate::cache::test
