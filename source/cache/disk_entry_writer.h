#pragma once

#include <functional>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "source/cache/entry.h"
#include "source/cache/entry_writer.h"

namespace modgate::cache {

// A fully written, fsynced temp file ready to become the entry for `key`.
struct PreparedEntry {
  std::string key;
  std::string temp_path;
  EntryMeta meta;
  uint64_t file_size = 0;
  FileId file_id;
  std::shared_ptr<const std::string> hot_body;  // nullptr: not kept in memory
};

// What a DiskEntryWriter needs from the cache that created it.
class WriterHost {
 public:
  virtual ~WriterHost() = default;
  // Runs `work` on the thread pool; the host outlives the work.
  virtual void runBlocking(std::function<void()> work) = 0;
  // Whether a body this large would be kept in memory.
  virtual bool wantsHotBody(uint64_t body_size) const = 0;
  virtual bool fsyncEnabled() const = 0;
  // Thread pool: renames the prepared file into place and indexes it. On
  // error nothing was renamed and the temp file is the caller's to delete.
  virtual absl::StatusOr<std::shared_ptr<const Entry>> install(PreparedEntry prepared) = 0;
};

// EntryWriter over a temp file; see entry_file.h for the layout. The temp
// file is created by the first queued operation, on the thread pool.
class DiskEntryWriter : public EntryWriter {
 public:
  DiskEntryWriter(WriterHost& host, std::string key, std::string temp_path);
  ~DiskEntryWriter() override;

  // For insertSmall(): the body is already in memory, so a hot copy need
  // not be read back from the file.
  void setKnownBody(std::shared_ptr<const std::string> body);

  void setProgressCallback(WriteProgressCallback cb) override;
  void countPendingIn(SharedPendingBytes total) override { shared_pending_ = std::move(total); }
  void append(buffer::Buffer& data) override;
  void commit(EntryMeta meta, CommitCallback done) override;
  void abort() override;
  uint64_t bytesWritten() const override;
  uint64_t pendingWriteBytes() const override;
  int dupReadFd() const override;
  const std::string& tempPath() const override;
  uint64_t bodyOffset() const override;

  class State;

 private:
  // Shared with queued thread-pool work, which may outlive this handle.
  std::shared_ptr<State> state_;
  bool finished_ = false;  // commit() or abort() called
  SharedPendingBytes shared_pending_;
};

}  // namespace modgate::cache
