#pragma once

#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace modgate::common {

// A fixed pool of threads for blocking work (disk reads, writes, fsync,
// rename) so that no dispatcher ever blocks on the file system. Work posts
// its result back to the dispatcher that asked (Dispatcher::post).
class ThreadPool {
 public:
  ThreadPool(std::string name, size_t threads);
  ~ThreadPool();  // finishes queued work, then joins
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  void post(std::function<void()> work);
  size_t queued() const;

 private:
  void run();

  mutable std::mutex lock_;
  std::condition_variable cv_;
  std::deque<std::function<void()>> queue_;
  bool stopping_ = false;
  std::vector<std::thread> threads_;
};

}  // namespace modgate::common
