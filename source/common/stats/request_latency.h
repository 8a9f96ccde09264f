#pragma once

#include <array>
#include <string>
#include <string_view>

#include "source/common/http/filter.h"
#include "source/common/stats/latency_histogram.h"

namespace modgate::stats {

// One worker's downstream latency histograms by request kind and cache
// result: request duration (accepted headers to last byte) and time to
// first byte (to response headers). Fixed label sets, so no label grows
// with traffic. Recorded on the worker, read at scrape.
class RequestLatency {
 public:
  // list, info, mod, zip, latest, sumdb, and "other" (a request that never
  // parsed as GOPROXY: bad paths, wrong methods).
  static constexpr std::array<std::string_view, 7> kKinds = {"list",   "info",  "mod",  "zip",
                                                             "latest", "sumdb", "other"};
  // hit, miss, stale, coalesced, and "none" (answered before the cache was
  // asked: errors, redirects by route).
  static constexpr std::array<std::string_view, 5> kCacheResults = {"hit", "miss", "stale",
                                                                    "coalesced", "none"};

  // Records a finished stream; a reset one counts too (its duration is how
  // long the client waited).
  void record(const http::StreamInfo& info);

  struct Pair {
    LatencyHistogram duration;
    LatencyHistogram ttfb;
  };
  const Pair& at(size_t kind, size_t cache) const { return histograms_[kind][cache]; }

  static size_t kindIndex(std::string_view kind);
  static size_t cacheIndex(const http::StreamInfo& info);

 private:
  std::array<std::array<Pair, kCacheResults.size()>, kKinds.size()> histograms_;
};

}  // namespace modgate::stats
