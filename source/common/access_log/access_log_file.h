#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "absl/status/statusor.h"

namespace modgate::access_log {

// One access log destination (a file or stdout) and the thread that writes
// to it. Workers never write: they format lines into their own buffers and
// hand whole batches over with submit(), which only moves a string into a
// queue under a short lock and wakes the writer. The queue is bounded in
// bytes: when the disk falls behind, a batch that does not fit is dropped
// and its lines counted, so a slow disk costs log lines, never memory or
// worker time.
//
// reopen() (SIGUSR1, reload) makes the writer close and reopen the path
// before its next write, so logrotate's rename-then-signal loses nothing:
// lines queued before the signal go to whichever file is open when the
// writer reaches them, each batch whole.
class AccessLogFile {
 public:
  // Totals over every file a server ever opened, for its metrics (a reload
  // replaces files; the totals must not go down).
  struct Totals {
    std::atomic<uint64_t> written_lines{0};
    std::atomic<uint64_t> dropped_lines{0};
    std::atomic<uint64_t> write_errors{0};
  };

  // `path` is "stdout" or an absolute path, opened O_APPEND|O_CREAT 0640.
  // `totals` must outlive the file.
  static absl::StatusOr<std::shared_ptr<AccessLogFile>> open(const std::string& path,
                                                             uint64_t max_pending_bytes,
                                                             Totals& totals);
  // Writes what is queued, then stops the writer thread.
  ~AccessLogFile();
  AccessLogFile(const AccessLogFile&) = delete;
  AccessLogFile& operator=(const AccessLogFile&) = delete;

  // Queues `batch` (whole lines, each ending in '\n'); false if it was
  // dropped because max_pending_bytes are already waiting. Any thread.
  bool submit(std::string batch, uint64_t lines);
  // Close and reopen the path before the next write. Any thread.
  void reopen();

  const std::string& path() const { return path_; }
  uint64_t droppedLines() const { return dropped_lines_.load(std::memory_order_relaxed); }
  uint64_t writtenLines() const { return written_lines_.load(std::memory_order_relaxed); }
  uint64_t writeErrors() const { return write_errors_.load(std::memory_order_relaxed); }
  uint64_t reopens() const { return reopens_.load(std::memory_order_relaxed); }

 private:
  AccessLogFile(std::string path, int fd, uint64_t max_pending_bytes, Totals& totals);
  void run();
  // Writer thread only.
  void writeAll(const std::string& batch);
  void reopenNow();

  const std::string path_;
  const uint64_t max_pending_bytes_;
  Totals& totals_;
  int fd_;  // writer thread only, after construction

  std::mutex mutex_;
  std::condition_variable wake_;
  struct Batch {
    std::string bytes;
    uint64_t lines;
  };
  std::deque<Batch> queue_;        // guarded by mutex_
  uint64_t pending_bytes_ = 0;     // guarded by mutex_
  bool reopen_requested_ = false;  // guarded by mutex_
  bool stopping_ = false;          // guarded by mutex_

  std::atomic<uint64_t> dropped_lines_{0};
  std::atomic<uint64_t> written_lines_{0};
  std::atomic<uint64_t> write_errors_{0};
  std::atomic<uint64_t> reopens_{0};
  std::thread thread_;
};

using AccessLogFileSharedPtr = std::shared_ptr<AccessLogFile>;

}  // namespace modgate::access_log
