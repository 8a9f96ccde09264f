#include "source/filters/goproxy/zip_body_hasher.h"

#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <vector>

#include "absl/strings/str_cat.h"
#include "source/sumdb/zip_hash.h"

namespace modgate::filters::goproxy {
namespace {

// One pread's worth: large enough that a 30 MiB zip is a few hundred
// reads, small enough to stay in the CPU's caches while it is hashed.
constexpr size_t kReadSize = 256 * 1024;

// Feeds body bytes [from, to) of `inflight`'s temp file to `hasher`.
absl::Status feedFromFile(const cache::Inflight& inflight, sumdb::StreamingZipHasher& hasher,
                          uint64_t from, uint64_t to) {
  const int fd = inflight.dupReadFd();
  if (fd < 0) return absl::UnavailableError("body file gone");
  const uint64_t base = inflight.bodyOffset();
  std::vector<char> buffer(static_cast<size_t>(std::min<uint64_t>(kReadSize, to - from)));
  absl::Status status;
  uint64_t at = from;
  while (at < to && !hasher.gaveUp()) {
    const size_t want = static_cast<size_t>(std::min<uint64_t>(buffer.size(), to - at));
    const ssize_t n = ::pread(fd, buffer.data(), want, static_cast<off_t>(base + at));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      status = absl::InternalError(n < 0 ? absl::StrCat("read: errno ", errno) : "short body file");
      break;
    }
    hasher.update(std::string_view(buffer.data(), static_cast<size_t>(n)));
    at += static_cast<uint64_t>(n);
  }
  ::close(fd);
  return status;
}

}  // namespace

ZipBodyHasher::ZipBodyHasher(std::shared_ptr<cache::Inflight> inflight, common::ThreadPool* pool,
                             event::Dispatcher& dispatcher)
    : inflight_(std::move(inflight)),
      pool_(pool),
      dispatcher_(dispatcher),
      hasher_(std::make_shared<sumdb::StreamingZipHasher>()) {}

ZipBodyHasher::~ZipBodyHasher() { alive_.reset(); }

void ZipBodyHasher::onReceived(uint64_t bytes) {
  received_ += bytes;
  pump();
}

void ZipBodyHasher::finish(uint64_t total, Done done) {
  total_ = total;
  done_ = std::move(done);
  pump();
}

void ZipBodyHasher::StepRunner::run(bool on_pool,
                                    std::function<std::function<void()>()> work) const {
  auto task = [work = std::move(work), dispatcher = dispatcher, alive = alive] {
    std::function<void()> then = work();
    dispatcher->post([alive, then = std::move(then)] {
      if (!alive.expired()) then();
    });
  };
  if (on_pool && pool != nullptr) {
    pool->post(std::move(task));
  } else {
    task();
  }
}

ZipBodyHasher::StepRunner ZipBodyHasher::startStep() {
  busy_ = true;
  return StepRunner{pool_, &dispatcher_, alive_};
}

void ZipBodyHasher::pump() {
  if (busy_ || delivered_ || (!done_ && stream_unusable_)) return;
  if (!done_) {
    if (hashed_ < received_) readUpTo(received_);
    return;
  }
  if (stream_unusable_) {
    hashWholeFile();
  } else if (hashed_ < *total_) {
    readUpTo(*total_);
  } else {
    finishStreamed();
  }
}

void ZipBodyHasher::readUpTo(uint64_t target) {
  const StepRunner runner = startStep();
  std::shared_ptr<cache::Inflight> inflight = inflight_;
  std::shared_ptr<sumdb::StreamingZipHasher> hasher = hasher_;
  const uint64_t from = hashed_;
  inflight_->whenWritten(target, [=, this](absl::Status written) {
    runner.run(written.ok(), [=, this]() -> std::function<void()> {
      ReadResult result;
      result.status = written.ok() ? feedFromFile(*inflight, *hasher, from, target) : written;
      result.gave_up = hasher->gaveUp();
      return [this, target, result] { onRead(target, result); };
    });
  });
}

void ZipBodyHasher::onRead(uint64_t target, ReadResult result) {
  busy_ = false;
  hashed_ = target;
  // A failed read or write leaves the file pass, which reports it as the
  // whole-file hash always did.
  if (!result.status.ok() || result.gave_up) stream_unusable_ = true;
  pump();
}

void ZipBodyHasher::finishStreamed() {
  const StepRunner runner = startStep();
  std::shared_ptr<cache::Inflight> inflight = inflight_;
  std::shared_ptr<sumdb::StreamingZipHasher> hasher = hasher_;
  const uint64_t total = *total_;
  // Every byte was read back, so the whole body is in the file.
  runner.run(true, [=, this]() -> std::function<void()> {
    absl::StatusOr<std::string> hash = absl::UnavailableError("body file gone");
    bool file_pass = false;
    if (const int fd = inflight->dupReadFd(); fd >= 0) {
      std::optional<std::string> streamed = hasher->finishFile(fd, inflight->bodyOffset(), total);
      if (streamed.has_value()) {
        hash = *std::move(streamed);
      } else {
        file_pass = true;
        hash = sumdb::HashZipFile(fd, inflight->bodyOffset(), total);
      }
      ::close(fd);
    }
    return [this, hash, file_pass] { deliver(hash, file_pass); };
  });
}

void ZipBodyHasher::hashWholeFile() {
  const StepRunner runner = startStep();
  std::shared_ptr<cache::Inflight> inflight = inflight_;
  const uint64_t total = *total_;
  inflight_->whenWritten(total, [=, this](absl::Status written) {
    runner.run(written.ok(), [=, this]() -> std::function<void()> {
      absl::StatusOr<std::string> result;
      if (!written.ok()) {
        result = absl::Status(written.code(),
                              absl::StrCat("body not stored: ", std::string(written.message())));
      } else if (int fd = inflight->dupReadFd(); fd < 0) {
        result = absl::UnavailableError("body file gone");
      } else {
        result = sumdb::HashZipFile(fd, inflight->bodyOffset(), total);
        ::close(fd);
      }
      return [this, result] { deliver(result, /*file_pass=*/true); };
    });
  });
}

void ZipBodyHasher::deliver(absl::StatusOr<std::string> hash, bool file_pass) {
  busy_ = false;
  delivered_ = true;
  Done done = std::move(done_);
  done_ = nullptr;
  if (done) done(std::move(hash), file_pass);
}

}  // namespace modgate::filters::goproxy
