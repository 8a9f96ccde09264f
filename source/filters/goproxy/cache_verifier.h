#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "source/filters/goproxy/goproxy_config.h"
#include "source/filters/goproxy/worker_context.h"

namespace modgate::filters::goproxy {

// Progress and outcome of one verify-cache run, shared between the worker
// that runs it and the admin thread that reports it.
class CacheVerifyReport {
 public:
  struct Counts {
    uint64_t total = 0;         // .mod and .zip entries to check
    uint64_t checked = 0;       // done so far (all of the below)
    uint64_t ok = 0;            // the database's hash
    uint64_t removed = 0;       // another hash, or unreadable: removed from the cache
    uint64_t unverifiable = 0;  // the database could not vouch (kept)
    uint64_t skipped = 0;       // nosum modules, and entries gone meanwhile
  };

  void start(uint64_t total);
  // One line per entry that is not fine (removed, unverifiable).
  void add(const std::string& line);
  void count(uint64_t Counts::*which);
  void finish();
  bool running() const;
  // "running: 12 of 92 checked" or "done: ..." and the lines.
  std::string text() const;

 private:
  mutable std::mutex mu_;
  bool running_ = false;
  bool finished_ = false;
  Counts counts_;
  std::vector<std::string> lines_;
};

// Rechecks every cached .mod and .zip against the checksum database of
// `config` (SumDb.key) and removes from the cache each that does not match
// (or is not a readable zip), reporting it to `report`: what Athens added as
// -verify-storage after it had served bad zips. Runs on `worker`'s
// dispatcher; entries are hashed on the hash pool, a few at a time, and the
// lookups and tiles come through the cache as for fills. Does nothing but
// report when no database has a key.
void verifyCache(GoproxyConfigSharedPtr config, WorkerContext& worker,
                 std::shared_ptr<CacheVerifyReport> report);

}  // namespace modgate::filters::goproxy
