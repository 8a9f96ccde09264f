#include "source/common/access_log/access_log_file.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "absl/strings/str_cat.h"

namespace modgate::access_log {
namespace {

constexpr char kStdout[] = "stdout";

int openPath(const std::string& path) {
  if (path == kStdout) return STDOUT_FILENO;
  return ::open(path.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
}

}  // namespace

absl::StatusOr<std::shared_ptr<AccessLogFile>> AccessLogFile::open(const std::string& path,
                                                                   uint64_t max_pending_bytes,
                                                                   Totals& totals) {
  int fd = openPath(path);
  if (fd < 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("access log ", path, ": cannot open: ", strerror(errno)));
  }
  return std::shared_ptr<AccessLogFile>(new AccessLogFile(path, fd, max_pending_bytes, totals));
}

AccessLogFile::AccessLogFile(std::string path, int fd, uint64_t max_pending_bytes, Totals& totals)
    : path_(std::move(path)), max_pending_bytes_(max_pending_bytes), totals_(totals), fd_(fd) {
  thread_ = std::thread([this] { run(); });
}

AccessLogFile::~AccessLogFile() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_one();
  thread_.join();
  if (fd_ != STDOUT_FILENO && fd_ >= 0) ::close(fd_);
}

bool AccessLogFile::submit(std::string batch, uint64_t lines) {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (pending_bytes_ + batch.size() > max_pending_bytes_) {
      dropped_lines_.fetch_add(lines, std::memory_order_relaxed);
      totals_.dropped_lines.fetch_add(lines, std::memory_order_relaxed);
      return false;
    }
    pending_bytes_ += batch.size();
    queue_.push_back(Batch{std::move(batch), lines});
  }
  wake_.notify_one();
  return true;
}

void AccessLogFile::reopen() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    reopen_requested_ = true;
  }
  wake_.notify_one();
}

void AccessLogFile::run() {
  std::unique_lock<std::mutex> lock(mutex_);
  while (true) {
    wake_.wait(lock, [this] { return stopping_ || reopen_requested_ || !queue_.empty(); });
    if (reopen_requested_) {
      reopen_requested_ = false;
      lock.unlock();
      reopenNow();
      lock.lock();
    }
    while (!queue_.empty()) {
      Batch batch = std::move(queue_.front());
      queue_.pop_front();
      // The bytes stay counted as pending until written: the bound is on
      // what waits for the disk, including what is being written.
      lock.unlock();
      writeAll(batch.bytes);
      written_lines_.fetch_add(batch.lines, std::memory_order_relaxed);
      totals_.written_lines.fetch_add(batch.lines, std::memory_order_relaxed);
      lock.lock();
      pending_bytes_ -= batch.bytes.size();
      if (reopen_requested_) break;
    }
    if (stopping_ && queue_.empty() && !reopen_requested_) return;
  }
}

void AccessLogFile::writeAll(const std::string& batch) {
  size_t done = 0;
  while (done < batch.size()) {
    ssize_t n = ::write(fd_, batch.data() + done, batch.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      write_errors_.fetch_add(1, std::memory_order_relaxed);
      totals_.write_errors.fetch_add(1, std::memory_order_relaxed);
      return;
    }
    done += static_cast<size_t>(n);
  }
}

void AccessLogFile::reopenNow() {
  if (path_ == kStdout) return;
  int fd = openPath(path_);
  if (fd < 0) {
    // Keep writing to the old file rather than lose lines.
    write_errors_.fetch_add(1, std::memory_order_relaxed);
    totals_.write_errors.fetch_add(1, std::memory_order_relaxed);
    return;
  }
  ::close(fd_);
  fd_ = fd;
  reopens_.fetch_add(1, std::memory_order_relaxed);
}

}  // namespace modgate::access_log
