#include "source/cache/disk_entry_writer.h"

#include <fcntl.h>
#include <openssl/sha.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <deque>
#include <mutex>

#include "absl/base/thread_annotations.h"
#include "source/cache/entry_file.h"
#include "source/cache/file_util.h"
#include "source/common/crypto/sha256.h"

namespace modgate::cache {
namespace {

// A strong ETag from the body's SHA-256: 128 bits are plenty to tell two
// versions of one key apart, and keep the header short on tiny answers.
std::string StrongEtag(const crypto::Sha256Digest& digest) {
  std::string hex = crypto::toHex(digest);
  return "\"" + hex.substr(0, 32) + "\"";
}

}  // namespace

class DiskEntryWriter::State : public std::enable_shared_from_this<DiskEntryWriter::State> {
 public:
  State(WriterHost& host, std::string key, std::string temp_path)
      : host_(host), key_(std::move(key)), temp_path_(std::move(temp_path)) {}

  enum class OpKind { kWrite, kCommit, kAbort };
  struct Op {
    OpKind kind = OpKind::kAbort;
    buffer::Buffer data;
    EntryMeta meta;
    CommitCallback done;
    // Where a write's bytes were also counted when queued (null if nowhere):
    // the same total gets them back, whenever countPendingIn() was called.
    SharedPendingBytes counted_in;
  };

  void enqueue(Op op) {
    bool start;
    {
      std::lock_guard<std::mutex> lock(mu_);
      queue_.push_back(std::move(op));
      start = !draining_;
      draining_ = true;
    }
    // One drain task at a time per writer keeps the operations in order
    // even though the pool has many threads.
    if (start) host_.runBlocking([self = shared_from_this()] { self->drain(); });
  }

  void setProgressCallback(WriteProgressCallback cb) {
    std::lock_guard<std::mutex> lock(mu_);
    progress_ = std::move(cb);
  }
  void setKnownBody(std::shared_ptr<const std::string> body) {
    std::lock_guard<std::mutex> lock(mu_);
    known_body_ = std::move(body);
  }

  int dupReadFd() const {
    int fd = read_fd_.load(std::memory_order_acquire);
    if (fd < 0) return -1;
    return ::fcntl(fd, F_DUPFD_CLOEXEC, 0);
  }

  ~State() {
    int fd = read_fd_.exchange(-1);
    if (fd >= 0) ::close(fd);
  }

  WriterHost& host_;
  const std::string key_;
  const std::string temp_path_;
  std::atomic<uint64_t> bytes_written_{0};
  std::atomic<uint64_t> pending_bytes_{0};

 private:
  void drain() {
    for (;;) {
      Op op;
      WriteProgressCallback progress;
      std::shared_ptr<const std::string> known_body;
      {
        std::lock_guard<std::mutex> lock(mu_);
        if (queue_.empty()) {
          draining_ = false;
          return;
        }
        op = std::move(queue_.front());
        queue_.pop_front();
        progress = progress_;
        known_body = known_body_;
      }
      switch (op.kind) {
        case OpKind::kWrite: {
          const uint64_t queued = op.data.length();
          write(op.data, progress);
          if (op.counted_in != nullptr) op.counted_in->fetch_sub(queued);
          break;
        }
        case OpKind::kCommit:
          commit(std::move(op.meta), std::move(op.done), std::move(known_body));
          break;
        case OpKind::kAbort:
          closeAndDelete();
          break;
      }
    }
  }

  absl::Status ensureOpen() {
    if (!error_.ok() || fd_.valid()) return error_;
    fd_.reset(::open(temp_path_.c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0644));
    if (!fd_.valid()) {
      error_ = ErrnoStatus(errno, "create " + temp_path_);
      return error_;
    }
    // A separate read-only description for readers of the growing file: it
    // survives the rename and is what dupReadFd() hands out.
    int read_fd = ::open(temp_path_.c_str(), O_RDONLY | O_CLOEXEC);
    if (read_fd < 0) {
      error_ = ErrnoStatus(errno, "open " + temp_path_);
      return error_;
    }
    read_fd_.store(read_fd, std::memory_order_release);
    return absl::OkStatus();
  }

  void write(buffer::Buffer& data, const WriteProgressCallback& progress) {
    const uint64_t length = data.length();
    bool had_error = !error_.ok();
    absl::Status status = ensureOpen();
    while (status.ok() && data.length() > 0) {
      constexpr int kMaxVecs = 64;
      iovec vecs[kMaxVecs];
      int n = data.peek(vecs, kMaxVecs, data.length());
      if (n > kMaxVecs) n = kMaxVecs;
      size_t chunk = 0;
      for (int i = 0; i < n; ++i) chunk += vecs[i].iov_len;
      if (n <= 0 || chunk == 0) break;
      status = PwritevFull(fd_.get(), vecs, n, kBodyOffset + written_);
      if (!status.ok()) break;
      // Hashed here, on the pool, while the bytes are in the CPU cache
      // anyway: the ETag is known at commit and never costs a request.
      for (int i = 0; i < n; ++i) digest_.update(vecs[i].iov_base, vecs[i].iov_len);
      written_ += chunk;
      data.drain(chunk);
    }
    pending_bytes_.fetch_sub(length);
    if (!status.ok()) {
      error_ = status;
      // Report a failure once; later writes are dropped silently.
      if (!had_error && progress) progress(error_, written_);
      return;
    }
    bytes_written_.store(written_);
    if (progress) progress(absl::OkStatus(), written_);
  }

  void commit(EntryMeta meta, CommitCallback done, std::shared_ptr<const std::string> known_body) {
    absl::StatusOr<std::shared_ptr<const Entry>> result =
        prepareAndInstall(std::move(meta), std::move(known_body));
    fd_.reset();
    if (!result.ok()) ::unlink(temp_path_.c_str());
    if (done) done(std::move(result));
  }

  absl::StatusOr<std::shared_ptr<const Entry>> prepareAndInstall(
      EntryMeta meta, std::shared_ptr<const std::string> known_body) {
    absl::Status status = ensureOpen();
    if (!status.ok()) return status;
    meta.body_size = written_;
    if (meta.stored_at_unix_ms == 0) meta.stored_at_unix_ms = NowUnixMs();
    meta.etag = StrongEtag(digest_.finish());

    std::shared_ptr<const std::string> hot_body;
    if (host_.wantsHotBody(written_)) {
      if (known_body != nullptr && known_body->size() == written_) {
        hot_body = std::move(known_body);
      } else {
        // Still in the page cache: cheap, and it saves the first hit a trip
        // to the thread pool.
        auto body = std::make_shared<std::string>(written_, '\0');
        status = PreadFull(fd_.get(), body->data(), body->size(), kBodyOffset);
        if (!status.ok()) return status;
        hot_body = std::move(body);
      }
    }

    std::string meta_text = EncodeMeta(key_, meta);
    if (meta_text.size() > kMaxMetaSize) {
      return absl::InvalidArgumentError("entry meta too large");
    }
    status = PwriteFull(fd_.get(), meta_text.data(), meta_text.size(), kBodyOffset + written_);
    if (!status.ok()) return status;
    // The prefix goes last: until it is there the file is not an entry.
    std::string prefix = EncodePrefix(written_, static_cast<uint32_t>(meta_text.size()));
    status = PwriteFull(fd_.get(), prefix.data(), prefix.size(), 0);
    if (!status.ok()) return status;
    if (host_.fsyncEnabled() && ::fsync(fd_.get()) != 0) {
      return ErrnoStatus(errno, "fsync " + temp_path_);
    }
    struct stat st;
    if (::fstat(fd_.get(), &st) != 0) return ErrnoStatus(errno, "fstat " + temp_path_);

    PreparedEntry prepared;
    prepared.key = key_;
    prepared.temp_path = temp_path_;
    prepared.meta = std::move(meta);
    prepared.file_size = static_cast<uint64_t>(st.st_size);
    prepared.file_id = FileId{st.st_dev, st.st_ino};
    prepared.hot_body = std::move(hot_body);
    return host_.install(std::move(prepared));
  }

  void closeAndDelete() {
    if (fd_.valid()) {
      fd_.reset();
      ::unlink(temp_path_.c_str());
    }
  }

  std::mutex mu_;
  std::deque<Op> queue_;
  bool draining_ = false;
  WriteProgressCallback progress_;
  std::shared_ptr<const std::string> known_body_;

  // Touched only by the (single) drain task.
  UniqueFd fd_;
  uint64_t written_ = 0;
  crypto::Sha256 digest_;
  absl::Status error_;

  std::atomic<int> read_fd_{-1};
};

DiskEntryWriter::DiskEntryWriter(WriterHost& host, std::string key, std::string temp_path)
    : state_(std::make_shared<State>(host, std::move(key), std::move(temp_path))) {}

DiskEntryWriter::~DiskEntryWriter() {
  if (!finished_) abort();
}

void DiskEntryWriter::setKnownBody(std::shared_ptr<const std::string> body) {
  state_->setKnownBody(std::move(body));
}

void DiskEntryWriter::setProgressCallback(WriteProgressCallback cb) {
  state_->setProgressCallback(std::move(cb));
}

void DiskEntryWriter::append(buffer::Buffer& data) {
  const uint64_t length = data.length();
  if (length == 0) return;
  if (finished_) {
    data.drain(length);
    return;
  }
  State::Op op{State::OpKind::kWrite, buffer::Buffer(), EntryMeta(), nullptr, shared_pending_};
  op.data.move(data);
  state_->pending_bytes_.fetch_add(length);
  if (shared_pending_ != nullptr) shared_pending_->fetch_add(length);
  state_->enqueue(std::move(op));
}

void DiskEntryWriter::commit(EntryMeta meta, CommitCallback done) {
  if (finished_) {
    if (done) done(absl::FailedPreconditionError("writer already committed or aborted"));
    return;
  }
  finished_ = true;
  state_->enqueue(State::Op{State::OpKind::kCommit, buffer::Buffer(), std::move(meta),
                            std::move(done), nullptr});
}

void DiskEntryWriter::abort() {
  if (finished_) return;
  finished_ = true;
  state_->enqueue(
      State::Op{State::OpKind::kAbort, buffer::Buffer(), EntryMeta(), nullptr, nullptr});
}

uint64_t DiskEntryWriter::bytesWritten() const { return state_->bytes_written_.load(); }

uint64_t DiskEntryWriter::pendingWriteBytes() const { return state_->pending_bytes_.load(); }

int DiskEntryWriter::dupReadFd() const { return state_->dupReadFd(); }

const std::string& DiskEntryWriter::tempPath() const { return state_->temp_path_; }

uint64_t DiskEntryWriter::bodyOffset() const { return kBodyOffset; }

}  // namespace modgate::cache
