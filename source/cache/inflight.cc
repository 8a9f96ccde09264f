#include "source/cache/inflight.h"

#include <fcntl.h>
#include <unistd.h>

#include "absl/time/clock.h"
#include "absl/time/time.h"

namespace modgate::cache {

Subscription::~Subscription() {
  alive_->store(false);
  inflight_->unsubscribe(id_);
}

Inflight::Inflight(std::string key) : key_(std::move(key)) {}

Inflight::~Inflight() {
  if (read_fd_ >= 0) ::close(read_fd_);
  // A fetcher that let go without ending the fetch: the writer's destructor
  // aborts it and deletes the temp file.
}

void Inflight::setDoneCallback(std::function<void()> cb) {
  std::lock_guard<std::mutex> lock(mu_);
  done_cb_ = std::move(cb);
}

void Inflight::start(EntryMeta headers_meta, EntryWriterPtr writer, Hold hold) {
  if (writer == nullptr) {
    fail("no cache writer for " + key_);
    return;
  }
  std::shared_ptr<EntryWriter> shared(std::move(writer));
  // Weak: the writer's queued work must not keep an abandoned fetch alive.
  std::weak_ptr<Inflight> weak = weak_from_this();
  shared->setProgressCallback([weak](const absl::Status& status, uint64_t bytes_written) {
    if (auto self = weak.lock()) self->onWriteProgress(status, bytes_written);
  });
  std::vector<Wakeup> wakeups;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (phase_ != Phase::kWaiting) return;  // `shared` aborts on destruction
    phase_ = Phase::kStreaming;
    hold_ = hold;
    headers_ = std::move(headers_meta);
    body_offset_ = shared->bodyOffset();
    writer_ = std::move(shared);
    if (hold_ != Hold::kWhole) wakeAllLocked(wakeups);
  }
  post(wakeups);
}

bool Inflight::discard() {
  std::shared_ptr<EntryWriter> writer;
  std::function<void(absl::Status)> written_cb;
  std::vector<Wakeup> wakeups;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (hold_ == Hold::kNone || phase_ != Phase::kStreaming) return false;
    // Streamed waiters have part of the rejected body: they fail (a client
    // gets a reset, never a body that ends as if complete). The others
    // wait for the next one.
    for (auto& [id, sub] : subscribers_) {
      if (sub.headers_sent && !sub.outcome_sent) {
        sub.aborted = true;
        if (!sub.post_pending) {
          sub.post_pending = true;
          wakeups.push_back(Wakeup{sub.dispatcher, id});
        }
      }
      sub.bytes_sent = 0;
    }
    writer = std::move(writer_);
    phase_ = Phase::kWaiting;
    hold_ = Hold::kNone;
    headers_ = EntryMeta();
    available_ = 0;
    body_offset_ = 0;
    if (read_fd_ >= 0) ::close(read_fd_);
    read_fd_ = -1;
    written_cb = std::move(written_cb_);
    written_cb_ = nullptr;
  }
  if (writer != nullptr) writer->abort();
  if (written_cb) written_cb(absl::CancelledError("body discarded"));
  post(wakeups);
  return true;
}

void Inflight::whenWritten(uint64_t bytes, std::function<void(absl::Status)> cb) {
  absl::Status status;
  {
    std::lock_guard<std::mutex> lock(mu_);
    written_target_ = bytes;
    written_cb_ = std::move(cb);
    cb = takeWrittenLocked(status);
  }
  if (cb) cb(status);
}

std::function<void(absl::Status)> Inflight::takeWrittenLocked(absl::Status& status) {
  if (!written_cb_) return nullptr;
  if (phase_ == Phase::kFailed) {
    status = absl::UnavailableError(failure_);
  } else if (phase_ != Phase::kStreaming && phase_ != Phase::kCommitting) {
    status = absl::FailedPreconditionError("no body is being written");
  } else if (available_ < written_target_ || (written_target_ > 0 && read_fd_ < 0)) {
    return nullptr;
  } else {
    status = absl::OkStatus();
  }
  auto cb = std::move(written_cb_);
  written_cb_ = nullptr;
  return cb;
}

void Inflight::append(buffer::Buffer& data) {
  std::shared_ptr<EntryWriter> writer;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (phase_ == Phase::kStreaming) writer = writer_;
  }
  if (writer != nullptr) {
    writer->append(data);
  } else {
    data.drain(data.length());
  }
}

void Inflight::finish(EntryMeta final_meta) {
  std::shared_ptr<EntryWriter> writer;
  std::vector<Wakeup> wakeups;
  bool commit = false;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (phase_ == Phase::kStreaming) {
      phase_ = Phase::kCommitting;
      writer = writer_;
      commit = true;
      if (final_meta.status == 0) final_meta.status = headers_.status;
      if (final_meta.content_type.empty()) final_meta.content_type = headers_.content_type;
      releaseHoldLocked(final_meta.body_size, wakeups);
    } else if (phase_ == Phase::kFailed) {
      // Failed under the fetcher (e.g. a full disk): drop the temp file.
      writer = std::move(writer_);
    }
  }
  post(wakeups);
  if (writer == nullptr) return;
  if (!commit) {
    writer->abort();
    return;
  }
  writer->commit(final_meta, [self = shared_from_this(),
                              final_meta](absl::StatusOr<std::shared_ptr<const Entry>> result) {
    self->onCommitted(std::move(result), final_meta);
  });
}

void Inflight::releaseHoldLocked(uint64_t final_size, std::vector<Wakeup>& wakeups) {
  // A held body is finished only once its verifier accepted it: what held
  // it back is settled, and the durable commit (fsync, rename) need not
  // delay the waiters any more than it does for a body never held. A whole
  // hold announces its size, so only when every byte is already written
  // (the verifier read them all); otherwise it waits for the commit.
  if (hold_ == Hold::kNone) return;
  if (hold_ == Hold::kWhole) {
    if (final_size == 0 || available_ != final_size || read_fd_ < 0) return;
    headers_.body_size = final_size;
  }
  hold_ = Hold::kNone;
  wakeAllLocked(wakeups);
}

void Inflight::onCommitted(absl::StatusOr<std::shared_ptr<const Entry>> result,
                           EntryMeta final_meta) {
  std::vector<Wakeup> wakeups;
  std::shared_ptr<EntryWriter> writer;
  {
    std::lock_guard<std::mutex> lock(mu_);
    // A write error failed the fetch while the commit was queued.
    if (phase_ != Phase::kCommitting) return;
    if (result.ok()) {
      entry_ = *std::move(result);
    } else {
      // Not cached, but every byte is in the file behind read_fd_ (progress
      // reports all precede the commit): waiters can finish their responses.
      auto entry = std::make_shared<Entry>();
      entry->key = key_;
      entry->meta = std::move(final_meta);
      entry->meta.body_size = available_;
      entry->body_offset = body_offset_;
      entry_ = std::move(entry);
    }
    available_ = entry_->meta.body_size;
    phase_ = Phase::kComplete;
    // A held body is announced only now, whole: with its final size.
    if (hold_ == Hold::kWhole) headers_.body_size = available_;
    hold_ = Hold::kNone;
    writer = std::move(writer_);
    wakeAllLocked(wakeups);
  }
  runDone();
  post(wakeups);
}

void Inflight::fail(std::string reason) {
  std::vector<Wakeup> wakeups;
  std::shared_ptr<EntryWriter> writer;
  std::function<void(absl::Status)> written_cb;
  absl::Status written_status;
  bool ended = false;
  {
    std::lock_guard<std::mutex> lock(mu_);
    // Too late once the commit is queued: the body is complete.
    if (phase_ == Phase::kCommitting) return;
    writer = std::move(writer_);
    ended = failLocked(std::move(reason));
    if (ended) wakeAllLocked(wakeups);
    written_cb = takeWrittenLocked(written_status);
  }
  if (written_cb) written_cb(written_status);
  if (writer != nullptr) writer->abort();
  if (!ended) return;
  runDone();
  post(wakeups);
}

bool Inflight::failLocked(std::string reason) {
  if (phase_ == Phase::kComplete || phase_ == Phase::kFailed) return false;
  phase_ = Phase::kFailed;
  failure_ = std::move(reason);
  return true;
}

void Inflight::failWithResponse(int status, std::string body) {
  bool started;
  {
    std::lock_guard<std::mutex> lock(mu_);
    started = phase_ != Phase::kWaiting;
  }
  if (started) {
    fail(std::move(body));
    return;
  }
  EntryMeta meta;
  meta.status = status;
  meta.content_type = "text/plain; charset=utf-8";
  completeInMemory(std::move(meta), std::move(body));
}

void Inflight::completeInMemory(EntryMeta meta, std::string body) {
  std::vector<Wakeup> wakeups;
  bool started = false;
  {
    std::lock_guard<std::mutex> lock(mu_);
    started = phase_ != Phase::kWaiting;
  }
  if (started) {
    fail("answer from memory after the body started streaming");
    return;
  }
  {
    std::lock_guard<std::mutex> lock(mu_);
    meta.body_size = body.size();
    if (meta.stored_at_unix_ms == 0) meta.stored_at_unix_ms = absl::ToUnixMillis(absl::Now());
    auto entry = std::make_shared<Entry>();
    entry->key = key_;
    entry->meta = meta;
    entry->hot_body = std::make_shared<const std::string>(std::move(body));
    headers_ = std::move(meta);
    entry_ = std::move(entry);
    available_ = entry_->meta.body_size;
    in_memory_ = true;
    phase_ = Phase::kComplete;
    wakeAllLocked(wakeups);
  }
  runDone();
  post(wakeups);
}

void Inflight::completeWithEntry(std::shared_ptr<const Entry> entry) {
  std::vector<Wakeup> wakeups;
  bool completed = false;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (phase_ == Phase::kWaiting) {
      headers_ = entry->meta;
      available_ = entry->meta.body_size;
      entry_ = std::move(entry);
      in_memory_ = true;
      whole_entry_ = true;
      phase_ = Phase::kComplete;
      completed = true;
      wakeAllLocked(wakeups);
    }
  }
  if (!completed) {
    fail("cached answer after the body started streaming");
    return;
  }
  runDone();
  post(wakeups);
}

size_t Inflight::pendingWriteBytes() const {
  std::shared_ptr<EntryWriter> writer;
  {
    std::lock_guard<std::mutex> lock(mu_);
    writer = writer_;
  }
  return writer == nullptr ? 0 : writer->pendingWriteBytes();
}

bool Inflight::terminated() const {
  std::lock_guard<std::mutex> lock(mu_);
  return phase_ == Phase::kComplete || phase_ == Phase::kFailed;
}

void Inflight::onWriteProgress(const absl::Status& status, uint64_t bytes_written) {
  std::vector<Wakeup> wakeups;
  std::shared_ptr<EntryWriter> writer;
  std::function<void(absl::Status)> written_cb;
  absl::Status written_status;
  bool ended = false;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (phase_ != Phase::kStreaming && phase_ != Phase::kCommitting) return;
    if (!status.ok()) {
      // The bytes cannot reach the waiters. The writer stays with the
      // fetcher's calls (finish/fail abort it); only the waiters hear now.
      ended = failLocked("cache write failed: " + status.ToString());
      wakeAllLocked(wakeups);
      written_cb = takeWrittenLocked(written_status);
    } else {
      if (read_fd_ < 0) writer = writer_;
      available_ = bytes_written;
      if (read_fd_ >= 0) {
        if (hold_ != Hold::kWhole) wakeAllLocked(wakeups);
        written_cb = takeWrittenLocked(written_status);
      }
    }
  }
  if (writer != nullptr) {
    // First bytes: keep our own read fd, valid after rename or abort. dup()
    // is not disk I/O; the writer is called without mu_ held.
    int fd = writer->dupReadFd();
    std::lock_guard<std::mutex> lock(mu_);
    if (read_fd_ < 0) {
      read_fd_ = fd;
    } else if (fd >= 0) {
      ::close(fd);
    }
    if ((phase_ == Phase::kStreaming || phase_ == Phase::kCommitting) && hold_ != Hold::kWhole) {
      wakeAllLocked(wakeups);
    }
    if (!written_cb) written_cb = takeWrittenLocked(written_status);
  }
  if (written_cb) written_cb(written_status);
  if (ended) runDone();
  post(wakeups);
}

void Inflight::runDone() {
  std::function<void()> cb;
  {
    std::lock_guard<std::mutex> lock(mu_);
    cb = std::move(done_cb_);
    done_cb_ = nullptr;
  }
  if (cb) cb();
}

void Inflight::wakeAllLocked(std::vector<Wakeup>& out) {
  for (auto& [id, sub] : subscribers_) {
    if (sub.post_pending) continue;  // that post will see the latest state
    sub.post_pending = true;
    out.push_back(Wakeup{sub.dispatcher, id});
  }
}

void Inflight::post(const std::vector<Wakeup>& wakeups) {
  if (wakeups.empty()) return;
  std::shared_ptr<Inflight> self = shared_from_this();
  for (const Wakeup& w : wakeups) {
    w.dispatcher->post([self, id = w.id] { self->deliver(id); });
  }
}

std::unique_ptr<Subscription> Inflight::subscribe(event::Dispatcher& dispatcher,
                                                  InflightCallbacks& callbacks) {
  auto alive = std::make_shared<std::atomic<bool>>(true);
  std::vector<Wakeup> wakeups;
  uint64_t id;
  {
    std::lock_guard<std::mutex> lock(mu_);
    id = next_id_++;
    Subscriber& sub = subscribers_[id];
    sub.dispatcher = &dispatcher;
    sub.callbacks = &callbacks;
    sub.alive = alive;
    // A late subscriber catches up from a post, never from inside this call.
    if (phase_ != Phase::kWaiting && hold_ != Hold::kWhole) {
      sub.post_pending = true;
      wakeups.push_back(Wakeup{&dispatcher, id});
    }
  }
  post(wakeups);
  return std::unique_ptr<Subscription>(new Subscription(shared_from_this(), id, alive));
}

void Inflight::unsubscribe(uint64_t id) {
  std::lock_guard<std::mutex> lock(mu_);
  subscribers_.erase(id);
}

void Inflight::deliver(uint64_t id) {
  bool headers = false, bytes = false, complete = false, failed = false;
  EntryMeta meta;
  uint64_t available = 0;
  std::shared_ptr<const Entry> entry;
  std::string reason;
  InflightCallbacks* callbacks;
  std::shared_ptr<std::atomic<bool>> alive;
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = subscribers_.find(id);
    if (it == subscribers_.end()) return;
    Subscriber& sub = it->second;
    sub.post_pending = false;
    if (sub.outcome_sent) return;
    callbacks = sub.callbacks;
    alive = sub.alive;
    if (sub.aborted) {
      failed = true;
      reason = "the body was rejected after it had started streaming";
      sub.outcome_sent = true;
    } else if (phase_ == Phase::kFailed) {
      failed = true;
      reason = failure_;
      sub.outcome_sent = true;
    } else if (phase_ != Phase::kWaiting && hold_ != Hold::kWhole) {
      if (!sub.headers_sent) {
        headers = !whole_entry_;
        meta = headers_;
        sub.headers_sent = true;
      }
      // Bytes are only announced once there is an fd to read them from.
      // Hold::kLastByte: the last byte waits for the commit.
      const uint64_t announced =
          hold_ == Hold::kLastByte && available_ > 0 ? available_ - 1 : available_;
      if (!in_memory_ && read_fd_ >= 0 && announced > sub.bytes_sent) {
        bytes = true;
        available = announced;
        sub.bytes_sent = announced;
      }
      if (phase_ == Phase::kComplete) {
        complete = true;
        entry = entry_;
        sub.outcome_sent = true;
      }
    }
  }
  // Each callback may destroy the subscription; `alive` says so.
  if (headers && alive->load()) callbacks->onHeaders(meta);
  if (bytes && alive->load()) callbacks->onBytesAvailable(available);
  if (complete && alive->load()) callbacks->onComplete(std::move(entry));
  if (failed && alive->load()) callbacks->onFailed(reason);
}

int Inflight::dupReadFd() const {
  std::lock_guard<std::mutex> lock(mu_);
  if (read_fd_ < 0) return -1;
  return ::fcntl(read_fd_, F_DUPFD_CLOEXEC, 0);
}

uint64_t Inflight::bodyOffset() const {
  std::lock_guard<std::mutex> lock(mu_);
  return body_offset_;
}

}  // namespace modgate::cache
