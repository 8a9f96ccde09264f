#pragma once

#include <atomic>
#include <cstdint>
#include <memory>

#include "absl/container/flat_hash_set.h"
#include "source/cache/entry_writer.h"

namespace modgate::filters::goproxy {

// What one worker's fetches have handed to the disk and the disk has not yet
// written, under one budget for all of them (max_pending_disk_bytes): a
// budget per fetch would let N concurrent cache fills hold N budgets of
// memory.
//
// The total is exact at every moment without a scan of the fetches: the
// cache writers add to it as they queue bytes and subtract as their writes
// land on the thread pool (cache::SharedPendingBytes). The fetches reading a
// body are known as readers: the one whose read takes the total over the
// budget pauses, and so does, at once, every other reader that has bytes of
// its own queued, before its next read. So the total passes the budget by
// the read that crossed it, plus one read of each fetch that had nothing
// queued then (such a fetch never waits; it pauses after that read), not by
// a budget per fetch.
//
// Not thread-safe except for the total: used on its worker's dispatcher.
class DiskBacklog {
 public:
  // A fetch reading a body into the disk.
  class Reader {
   public:
    virtual ~Reader() = default;
    // The total is over a budget: pause if any bytes of yours are queued.
    virtual void onBacklogOverBudget() = 0;
  };

  // The counter the cache writers share; bytes() reads it.
  const cache::SharedPendingBytes& total() const { return total_; }
  uint64_t bytes() const { return total_->load(std::memory_order_relaxed); }

  void addReader(Reader& reader) { readers_.insert(&reader); }
  void removeReader(Reader& reader) { readers_.erase(&reader); }
  size_t readers() const { return readers_.size(); }
  // `crossing` saw the total over its budget and paused: every other reader
  // is told, once (a reader that pauses in turn does not tell them again).
  void overBudget(Reader& crossing);

 private:
  cache::SharedPendingBytes total_ = std::make_shared<std::atomic<uint64_t>>(0);
  absl::flat_hash_set<Reader*> readers_;
  bool telling_ = false;
};

}  // namespace modgate::filters::goproxy
