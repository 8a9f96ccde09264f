#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "source/cache/entry.h"
#include "source/cache/entry_writer.h"
#include "source/common/buffer/buffer.h"
#include "source/common/event/dispatcher.h"

namespace modgate::cache {

// What a request waiting on an in-flight fetch hears, always on the
// dispatcher it subscribed with, in this order: onHeaders at most once, then
// onBytesAvailable any number of times (coalesced: only the latest total
// matters), then exactly one of onComplete / onFailed. onComplete always
// follows onHeaders; onFailed may come without it: a waiter whose
// dispatcher had not yet run the headers post when the fetch failed hears
// only the failure, and answers it with an error status instead of a reset.
class InflightCallbacks {
 public:
  virtual ~InflightCallbacks() = default;

  // Status and content type of the answer; body_size is the expected size
  // when upstream announced one, else 0.
  virtual void onHeaders(const EntryMeta& meta) = 0;

  // Body bytes [0, total_available) can be read from Inflight::dupReadFd()
  // at Inflight::bodyOffset() + n (e.g. Buffer::addFile: sendfile).
  virtual void onBytesAvailable(uint64_t total_available) = 0;

  // The whole body (entry->meta.body_size bytes) is available. Usually
  // entry->stored(): it is in the cache now. When the cache would not keep
  // it (commit failed, larger than the cap) the body is still complete in
  // dupReadFd(). When entry->hot_body is set and !stored() the answer was
  // never on disk (Inflight::completeInMemory): serve the body from memory.
  virtual void onComplete(std::shared_ptr<const Entry> entry) = 0;

  // The fetch failed. Before onHeaders: answer with an error (502/504).
  // After onHeaders: the response is already under way; reset it.
  virtual void onFailed(std::string_view reason) = 0;
};

class Inflight;

// A waiter's registration; destroying it unsubscribes, and no callback runs
// after that, even one already posted. Destroy it on the dispatcher it was
// subscribed with.
class Subscription {
 public:
  ~Subscription();
  Subscription(const Subscription&) = delete;
  Subscription& operator=(const Subscription&) = delete;

  Inflight& inflight() const { return *inflight_; }

 private:
  friend class Inflight;
  Subscription(std::shared_ptr<Inflight> inflight, uint64_t id,
               std::shared_ptr<std::atomic<bool>> alive)
      : inflight_(std::move(inflight)), id_(id), alive_(std::move(alive)) {}

  std::shared_ptr<Inflight> inflight_;
  const uint64_t id_;
  std::shared_ptr<std::atomic<bool>> alive_;
};

// One upstream fetch that any number of requests, on any worker threads,
// stream as it arrives. The fetcher writes through an EntryWriter; progress
// is published only once bytes are in the temp file, so every waiter reads
// the body from the file (sendfile), never from a shared memory buffer.
//
// Thread-safe. Waiters are told by posting to their dispatchers; no lock is
// held while calling out. The fetch does not depend on its waiters: when the
// last one goes away the fetch still completes and fills the cache.
//
// Fetcher methods (start, append, finish, fail, failWithResponse,
// completeInMemory) may be called from any thread but one at a time, and
// exactly one of finish/fail/failWithResponse/completeInMemory ends the
// fetch; later fetcher calls are ignored. Keep the Inflight (the shared_ptr
// from InflightTable::join) until then.
class Inflight : public std::enable_shared_from_this<Inflight> {
 public:
  explicit Inflight(std::string key);
  ~Inflight();
  Inflight(const Inflight&) = delete;
  Inflight& operator=(const Inflight&) = delete;

  const std::string& key() const { return key_; }

  // Runs once, when the fetch has ended (after the entry is indexed, before
  // waiters are told): InflightTable uses it to forget the key.
  void setDoneCallback(std::function<void()> cb);

  // --- Fetcher side ---

  // What waiters see of a body before finish() (which, for a held body,
  // means its verifier accepted it).
  enum class Hold {
    // Every byte as soon as it is in the file.
    kNone,
    // Nothing, not even the headers: a body that must be verified first is
    // never streamed, so a rejected one can be discard()ed and another
    // start()ed, or fail()ed with a 502.
    kWhole,
    // The headers and every byte but the last: the body streams to clients
    // while it is verified, and none of them has it complete before
    // finish(). discard() and fail() reset the waiters that saw any of it.
    kLastByte,
  };

  // Upstream answered; `headers_meta` has the status, content type and the
  // expected size if known. The body goes to `writer`; `hold` says what
  // waiters see of it before the commit.
  void start(EntryMeta headers_meta, EntryWriterPtr writer, Hold hold = Hold::kNone);
  // Drops a held body (temp file and all) and waits for a new start(); the
  // waiters that already have its headers (Hold::kLastByte) fail, and the
  // others wait for the new body. Only while held; otherwise a no-op
  // returning false.
  bool discard();
  // Runs `cb` (on a thread-pool thread, or here if already so) once the
  // first `bytes` body bytes are readable through dupReadFd(), or with an
  // error if the write failed or the fetch ended first. One at a time.
  void whenWritten(uint64_t bytes, std::function<void(absl::Status)> cb);
  // Moves `data` into the writer's queue. Waiters hear of the bytes once
  // they are in the file.
  void append(buffer::Buffer& data);
  // The body is complete (and, if held, accepted by its verifier): commit
  // it to the cache, then tell the waiters. A held body is released to the
  // waiters now, during the commit, as an unheld one streams (a whole hold
  // only if every byte of `final_meta.body_size` is already written).
  void finish(EntryMeta final_meta);
  // The fetch failed: drop the temp file and tell the waiters.
  void fail(std::string reason);
  // Upstream gave an answer that is not to be cached (e.g. a 5xx): before
  // start() waiters get it as an in-memory answer (text/plain); after
  // start() it is a failure like fail(body).
  void failWithResponse(int status, std::string body);
  // An answer that never goes to disk, delivered to the waiters from
  // memory. Only before start(); afterwards it is treated as a failure.
  void completeInMemory(EntryMeta meta, std::string body);
  // The fetch ended with an entry already in the cache (an expired entry
  // the upstream confirmed with a 304, stored again with a new expiry):
  // waiters get onComplete(entry) alone, with no onHeaders before it, and
  // serve it like a hit. Only before start(); afterwards a failure.
  void completeWithEntry(std::shared_ptr<const Entry> entry);
  // Bytes appended but not yet written: pause upstream reads above a bound
  // (say 8 MiB) and resume when it drops.
  size_t pendingWriteBytes() const;
  // True once the fetch has ended (including a failure the fetcher did not
  // cause, such as a full disk): stop reading upstream.
  bool terminated() const;

  // --- Waiter side ---

  // Registers `callbacks` to run on `dispatcher`. A late subscriber first
  // gets what it missed (headers, bytes so far, the outcome), posted.
  std::unique_ptr<Subscription> subscribe(event::Dispatcher& dispatcher,
                                          InflightCallbacks& callbacks);
  // A new read-only fd (owned by the caller) on the body file; valid after
  // the rename into the cache too. -1 before the first bytes are available.
  int dupReadFd() const;
  uint64_t bodyOffset() const;

 private:
  friend class Subscription;
  enum class Phase { kWaiting, kStreaming, kCommitting, kComplete, kFailed };

  struct Subscriber {
    event::Dispatcher* dispatcher;
    InflightCallbacks* callbacks;
    std::shared_ptr<std::atomic<bool>> alive;
    bool post_pending = false;
    bool headers_sent = false;
    uint64_t bytes_sent = 0;
    bool outcome_sent = false;
    // Saw part of a body that was then discard()ed: fails on next delivery.
    bool aborted = false;
  };
  // A post to make after the lock is released.
  struct Wakeup {
    event::Dispatcher* dispatcher;
    uint64_t id;
  };

  void onWriteProgress(const absl::Status& status, uint64_t bytes_written);
  // Takes the whenWritten() callback if its condition holds (or the fetch
  // ended): to be called outside mu_ with the status.
  std::function<void(absl::Status)> takeWrittenLocked(absl::Status& status)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void onCommitted(absl::StatusOr<std::shared_ptr<const Entry>> result, EntryMeta final_meta);
  // finish() of a held body: lets the waiters have it before the commit.
  void releaseHoldLocked(uint64_t final_size, std::vector<Wakeup>& wakeups)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Ends the fetch as failed; returns false if it had already ended.
  bool failLocked(std::string reason) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void wakeAllLocked(std::vector<Wakeup>& out) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void post(const std::vector<Wakeup>& wakeups);
  void runDone();
  void deliver(uint64_t id);
  void unsubscribe(uint64_t id);

  const std::string key_;
  mutable std::mutex mu_;
  Phase phase_ ABSL_GUARDED_BY(mu_) = Phase::kWaiting;
  EntryMeta headers_ ABSL_GUARDED_BY(mu_);
  uint64_t available_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t body_offset_ ABSL_GUARDED_BY(mu_) = 0;
  bool in_memory_ ABSL_GUARDED_BY(mu_) = false;
  // Set by completeWithEntry(): no onHeaders, the entry is served whole.
  bool whole_entry_ ABSL_GUARDED_BY(mu_) = false;
  std::shared_ptr<const Entry> entry_ ABSL_GUARDED_BY(mu_);
  std::string failure_ ABSL_GUARDED_BY(mu_);
  // Shared so calls into it happen outside `mu_`.
  std::shared_ptr<EntryWriter> writer_ ABSL_GUARDED_BY(mu_);
  int read_fd_ ABSL_GUARDED_BY(mu_) = -1;
  // What waiters see of the body until the commit (start()'s `hold`).
  Hold hold_ ABSL_GUARDED_BY(mu_) = Hold::kNone;
  uint64_t written_target_ ABSL_GUARDED_BY(mu_) = 0;
  std::function<void(absl::Status)> written_cb_ ABSL_GUARDED_BY(mu_);
  absl::flat_hash_map<uint64_t, Subscriber> subscribers_ ABSL_GUARDED_BY(mu_);
  uint64_t next_id_ ABSL_GUARDED_BY(mu_) = 1;
  std::function<void()> done_cb_ ABSL_GUARDED_BY(mu_);
};

}  // namespace modgate::cache
