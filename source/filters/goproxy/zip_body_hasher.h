#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "source/cache/inflight.h"
#include "source/common/common/thread_pool.h"
#include "source/common/event/dispatcher.h"
#include "source/sumdb/streaming_zip_hash.h"

namespace modgate::filters::goproxy {

// The go.sum hash of one zip body while it streams into its temp file, so
// the verdict does not wait for a whole second pass once the last byte is
// there (issue 11: verification must add little to the time to last byte).
//
// The network's buffers go to the cache fill untouched; this reads the
// bytes back from the temp file (page cache) on the hash pool, never on
// the worker's loop: as bytes arrive it asks the Inflight to say when they
// are written (whenWritten, one at a time), then one pool task preads
// [hashed, written) and feeds a sumdb::StreamingZipHasher. The task's
// completion, posted back to the dispatcher, starts the next read if more
// was written meanwhile. One read at a time per body keeps the bytes in
// order without a lock; the hasher is shared with the tasks, so a task
// that outlives this object (a discarded body) still has it.
//
// At the end the streamed hashes are checked against the central directory
// (StreamingZipHasher::finishFile). When that fails, or the stream gave up
// on the zip, the whole file is hashed as before (sumdb::HashZipFile), and
// its answer is the one given: `file_pass` says so, for a counter.
//
// One per body: a discarded body's object is destroyed, and completions
// for it are dropped.
class ZipBodyHasher {
 public:
  using Done = std::function<void(absl::StatusOr<std::string> hash, bool file_pass)>;

  // `pool` may be null (tests): the work then runs where it is asked for.
  ZipBodyHasher(std::shared_ptr<cache::Inflight> inflight, common::ThreadPool* pool,
                event::Dispatcher& dispatcher);
  ~ZipBodyHasher();
  ZipBodyHasher(const ZipBodyHasher&) = delete;
  ZipBodyHasher& operator=(const ZipBodyHasher&) = delete;

  // `bytes` more body bytes went to the cache fill.
  void onReceived(uint64_t bytes);
  // The body is `total` bytes; `done` runs once, on the dispatcher.
  void finish(uint64_t total, Done done);

 private:
  // What a pool task reports back about the bytes it read.
  struct ReadResult {
    absl::Status status;
    bool gave_up = false;
  };

  void pump();
  void readUpTo(uint64_t target);
  void onRead(uint64_t target, ReadResult result);
  void finishStreamed();
  void hashWholeFile();
  void deliver(absl::StatusOr<std::string> hash, bool file_pass);

  // How a step's work reports back. Made on the dispatcher by startStep();
  // run() may be called from the disk thread (a whenWritten callback), so
  // it holds copies and touches no member of the hasher.
  struct StepRunner {
    common::ThreadPool* pool;
    event::Dispatcher* dispatcher;
    std::weak_ptr<bool> alive;
    // Runs `work` on the pool (here when `on_pool` is false or there is no
    // pool: a failed write is reported without queueing behind hashes),
    // then what it returns on the dispatcher, unless the hasher is gone.
    void run(bool on_pool, std::function<std::function<void()>()> work) const;
  };
  // Marks a read or the final pass as under way.
  StepRunner startStep();

  std::shared_ptr<cache::Inflight> inflight_;
  common::ThreadPool* pool_;
  event::Dispatcher& dispatcher_;
  std::shared_ptr<sumdb::StreamingZipHasher> hasher_;
  uint64_t received_ = 0;
  uint64_t hashed_ = 0;
  std::optional<uint64_t> total_;
  // A read or the final pass is under way.
  bool busy_ = false;
  // The streamed hashes cannot be used (the hasher gave up, or a read
  // failed): only the file pass is left.
  bool stream_unusable_ = false;
  bool delivered_ = false;
  Done done_;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace modgate::filters::goproxy
