#pragma once

#include <sys/uio.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>

#include "absl/status/status.h"
#include "source/cache/entry.h"

// Blocking file helpers for the thread pool. None of these may run on a
// dispatcher thread.
namespace modgate::cache {

// Owns a file descriptor; closes it on destruction.
class UniqueFd {
 public:
  UniqueFd() = default;
  explicit UniqueFd(int fd) : fd_(fd) {}
  ~UniqueFd() { reset(); }
  UniqueFd(UniqueFd&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
  UniqueFd& operator=(UniqueFd&& other) noexcept {
    if (this != &other) {
      reset();
      fd_ = std::exchange(other.fd_, -1);
    }
    return *this;
  }
  UniqueFd(const UniqueFd&) = delete;
  UniqueFd& operator=(const UniqueFd&) = delete;

  int get() const { return fd_; }
  bool valid() const { return fd_ >= 0; }
  int release() { return std::exchange(fd_, -1); }
  void reset(int fd = -1);

 private:
  int fd_ = -1;
};

// An error status for a failed system call: "<what>: <strerror(err)>".
absl::Status ErrnoStatus(int err, std::string_view what);

// pread/pwrite until done (short transfers and EINTR are retried). PreadFull
// reports a file shorter than asked as DataLoss.
absl::Status PreadFull(int fd, void* data, size_t length, uint64_t offset);
absl::Status PwriteFull(int fd, const void* data, size_t length, uint64_t offset);
// Writes all of `iov` (modified) at `offset`.
absl::Status PwritevFull(int fd, iovec* iov, int iovcnt, uint64_t offset);

// mkdir -p for `dir` (absolute); newly created directories and their parents
// are fsynced so that a later rename into them survives a crash.
absl::Status MakeDirs(const std::string& dir);
absl::Status FsyncDir(const std::string& dir);

// The directory part of `path` ("/a/b/c" -> "/a/b").
std::string DirName(const std::string& path);

// Deletes `path` only if it is still the file `id` (a newer version renamed
// into its place is left alone). Missing files are fine.
void UnlinkIfSame(const std::string& path, const FileId& id);

// Milliseconds since the Unix epoch.
int64_t NowUnixMs();

}  // namespace modgate::cache
