#include "source/cache/file_util.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <vector>

#include "absl/time/clock.h"
#include "absl/time/time.h"

namespace modgate::cache {

void UniqueFd::reset(int fd) {
  if (fd_ >= 0) ::close(fd_);
  fd_ = fd;
}

absl::Status ErrnoStatus(int err, std::string_view what) {
  std::string message = std::string(what) + ": " + std::strerror(err);
  absl::string_view view(message);
  switch (err) {
    case ENOENT:
      return absl::NotFoundError(view);
    case ENOSPC:
    case EDQUOT:
      return absl::ResourceExhaustedError(view);
    default:
      return absl::InternalError(view);
  }
}

absl::Status PreadFull(int fd, void* data, size_t length, uint64_t offset) {
  auto* out = static_cast<char*>(data);
  while (length > 0) {
    ssize_t n = ::pread(fd, out, length, static_cast<off_t>(offset));
    if (n < 0) {
      if (errno == EINTR) continue;
      return ErrnoStatus(errno, "pread");
    }
    if (n == 0) return absl::DataLossError("pread: file shorter than expected");
    out += n;
    length -= static_cast<size_t>(n);
    offset += static_cast<uint64_t>(n);
  }
  return absl::OkStatus();
}

absl::Status PwriteFull(int fd, const void* data, size_t length, uint64_t offset) {
  iovec iov{const_cast<void*>(data), length};
  return PwritevFull(fd, &iov, 1, offset);
}

absl::Status PwritevFull(int fd, iovec* iov, int iovcnt, uint64_t offset) {
  while (iovcnt > 0) {
    if (iov->iov_len == 0) {
      ++iov;
      --iovcnt;
      continue;
    }
    ssize_t n = ::pwritev(fd, iov, iovcnt, static_cast<off_t>(offset));
    if (n < 0) {
      if (errno == EINTR) continue;
      return ErrnoStatus(errno, "pwritev");
    }
    offset += static_cast<uint64_t>(n);
    auto left = static_cast<size_t>(n);
    while (left > 0 && iovcnt > 0) {
      if (left >= iov->iov_len) {
        left -= iov->iov_len;
        ++iov;
        --iovcnt;
      } else {
        iov->iov_base = static_cast<char*>(iov->iov_base) + left;
        iov->iov_len -= left;
        left = 0;
      }
    }
  }
  return absl::OkStatus();
}

std::string DirName(const std::string& path) {
  size_t slash = path.rfind('/');
  if (slash == std::string::npos) return ".";
  if (slash == 0) return "/";
  return path.substr(0, slash);
}

absl::Status FsyncDir(const std::string& dir) {
  UniqueFd fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!fd.valid()) return ErrnoStatus(errno, "open " + dir);
  if (::fsync(fd.get()) != 0) return ErrnoStatus(errno, "fsync " + dir);
  return absl::OkStatus();
}

absl::Status MakeDirs(const std::string& dir) {
  struct stat st;
  if (::stat(dir.c_str(), &st) == 0) {
    if (S_ISDIR(st.st_mode)) return absl::OkStatus();
    return absl::FailedPreconditionError(absl::string_view(dir + " exists and is not a directory"));
  }
  // Walk down from the deepest existing ancestor, creating what is missing.
  std::vector<std::string> missing;
  std::string current = dir;
  while (current.size() > 1 && ::stat(current.c_str(), &st) != 0) {
    missing.push_back(current);
    current = DirName(current);
  }
  for (auto it = missing.rbegin(); it != missing.rend(); ++it) {
    if (::mkdir(it->c_str(), 0755) != 0 && errno != EEXIST) {
      return ErrnoStatus(errno, "mkdir " + *it);
    }
    // The new directory's name lives in its parent.
    absl::Status status = FsyncDir(DirName(*it));
    if (!status.ok()) return status;
  }
  if (::stat(dir.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) {
    return absl::FailedPreconditionError(absl::string_view(dir + " is not a directory"));
  }
  return absl::OkStatus();
}

void UnlinkIfSame(const std::string& path, const FileId& id) {
  struct stat st;
  if (::lstat(path.c_str(), &st) != 0) return;
  if (st.st_dev != id.dev || st.st_ino != id.ino) return;
  ::unlink(path.c_str());
}

int64_t NowUnixMs() { return absl::ToUnixMillis(absl::Now()); }

}  // namespace modgate::cache
