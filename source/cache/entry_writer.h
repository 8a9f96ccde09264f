#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "source/cache/entry.h"
#include "source/common/buffer/buffer.h"

namespace modgate::cache {

// Result of committing an entry: the entry now in the index, or why it is
// not cached. On error the body bytes that reached the temp file are still
// readable through any read fd taken before (an in-flight response can be
// finished even when the cache refuses to keep it).
using CommitCallback = std::function<void(absl::StatusOr<std::shared_ptr<const Entry>> entry)>;

// Runs on a thread-pool thread after each append() has reached the temp file
// (status OK, bytes_written = total body bytes now readable from the file), or
// once when a write failed (the writer is then broken; commit will fail).
using WriteProgressCallback =
    std::function<void(const absl::Status& status, uint64_t bytes_written)>;

// Bytes queued for the disk by several writers together: the fetches of one
// worker share one, so a single budget bounds all of them. Each writer adds
// what append() queues and subtracts the same bytes once they are written or
// dropped, on whatever thread that happens.
using SharedPendingBytes = std::shared_ptr<std::atomic<uint64_t>>;

// Streams one body into a temp file and then publishes it as a cache entry
// in one atomic rename. All file work happens on the thread pool, in the
// order of the calls (a per-writer serial queue), so append() never blocks
// the calling dispatcher. setProgressCallback/append/commit/abort may be
// called from any thread, but by one caller at a time (the fetcher); the
// accessors (bytesWritten, pendingWriteBytes, dupReadFd, tempPath,
// bodyOffset) are safe from any thread at any time.
//
// Destroying a writer before commit() aborts it (the temp file is deleted).
// After commit() the writer may be destroyed at once: the queued work owns
// what it needs.
class EntryWriter {
 public:
  virtual ~EntryWriter() = default;

  // Must be called before the first append(); see WriteProgressCallback.
  virtual void setProgressCallback(WriteProgressCallback cb) = 0;

  // Counts this writer's queued bytes in `total` too (besides
  // pendingWriteBytes()), from the next append() on.
  virtual void countPendingIn(SharedPendingBytes total) = 0;

  // Moves all of `data` (in-memory slices; no copy) to the write queue.
  virtual void append(buffer::Buffer& data) = 0;

  // Finishes the entry: writes `meta` (body_size is replaced by the number
  // of bytes written, stored_at 0 by now), fsyncs, renames into place, fsyncs
  // the directory, indexes it and evicts down to the size cap. `done` runs on
  // a thread-pool thread; post to a dispatcher from it as needed.
  virtual void commit(EntryMeta meta, CommitCallback done) = 0;

  // Drops the entry and deletes the temp file. No-op after commit().
  virtual void abort() = 0;

  // Body bytes written to the temp file so far (readable through a read fd).
  virtual uint64_t bytesWritten() const = 0;
  // Bytes handed to append() but not yet written: lets a fetcher pause its
  // upstream when the disk falls behind.
  virtual uint64_t pendingWriteBytes() const = 0;
  // A new read-only fd on the temp file (O_CLOEXEC), owned by the caller; it
  // stays valid after the rename or deletion. -1 until the thread pool has
  // created the file, i.e. before the first progress callback.
  virtual int dupReadFd() const = 0;
  virtual const std::string& tempPath() const = 0;
  // Offset of the body in the temp file and in the committed file.
  virtual uint64_t bodyOffset() const = 0;
};
using EntryWriterPtr = std::unique_ptr<EntryWriter>;

}  // namespace modgate::cache
