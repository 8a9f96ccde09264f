#pragma once

#include <chrono>
#include <cstdint>
#include <memory>

#include "source/cache/cache.h"
#include "source/cache/inflight.h"
#include "source/cache/inflight_table.h"
#include "source/common/common/thread_pool.h"
#include "source/common/stats/stats.h"
#include "source/goproxy/request.h"
#include "source/router/route_table.h"
#include "source/sumdb/note.h"

namespace modgate::filters::goproxy {

// Module content checked against a checksum database before it is cached
// or served (SumDb.key).
struct ModuleVerification {
  std::string sumdb;  // the database's name, e.g. "sum.golang.org"
  sumdb::NoteVerifier verifier;
  // GONOSUMDB-style globs of modules that are not checked.
  std::string nosum;
  // A .zip streams to its clients while it is verified, all but its last
  // byte (SumDb.stream_while_verifying).
  bool stream_zips = false;
};

// Everything the GOPROXY filter needs, as one immutable snapshot shared by
// all workers. A config reload builds a new snapshot; requests in flight
// keep the one they started with.
struct GoproxyConfig {
  router::RouteTableSharedPtr routes;
  cache::Cache* cache = nullptr;
  cache::InflightTable* inflight = nullptr;
  stats::Stats* stats = nullptr;

  std::chrono::milliseconds list_ttl{60000};
  std::chrono::milliseconds latest_ttl{60000};
  std::chrono::milliseconds negative_ttl{60000};
  std::chrono::milliseconds sumdb_latest_ttl{60000};
  std::chrono::milliseconds sumdb_supported_ttl{24 * 3600 * 1000};
  bool serve_stale = true;
  // Serve an expired list/@latest this long past expiry while one
  // background fetch refreshes it; zero: clients wait for the refresh.
  std::chrono::milliseconds stale_while_revalidate{3600 * 1000};
  // Serve only what the cache holds; never ask an upstream.
  bool offline = false;
  // Fetched bytes that may wait for the disk, per worker: all of a worker's
  // fetches together, not each (DiskBacklog). Over it, the fetches with
  // bytes of their own queued stop reading their upstreams until it is down
  // to half; a fetch with nothing queued is never paused.
  uint64_t max_pending_disk_bytes = 8 << 20;
  // nullptr: module content is cached as the upstream sent it.
  std::shared_ptr<const ModuleVerification> verification;
  // Where a module zip is hashed (blocking reads of the fetched file).
  common::ThreadPool* hash_pool = nullptr;
};
using GoproxyConfigSharedPtr = std::shared_ptr<const GoproxyConfig>;

// Go's own limits (cmd/go, golang.org/x/mod/zip): a proxy enforces them on
// what it fetches so it never stores what the client would reject.
inline constexpr uint64_t kMaxZipBytes = 500ull << 20;
inline constexpr uint64_t kMaxGoModBytes = 16ull << 20;
// .info, list, @latest, sumdb answers: generous but bounded.
inline constexpr uint64_t kMaxSmallBytes = 16ull << 20;

uint64_t maxBodyBytes(modgate::goproxy::RequestKind kind);
const char* contentType(modgate::goproxy::RequestKind kind);
// How long an answer of this kind stays fresh; zero means immutable.
std::chrono::milliseconds freshFor(const GoproxyConfig& config,
                                   const modgate::goproxy::Request& request);

}  // namespace modgate::filters::goproxy
