#include "source/common/stats/request_latency.h"

namespace modgate::stats {

size_t RequestLatency::kindIndex(std::string_view kind) {
  for (size_t i = 0; i + 1 < kKinds.size(); ++i) {
    if (kKinds[i] == kind) return i;
  }
  return kKinds.size() - 1;
}

size_t RequestLatency::cacheIndex(const http::StreamInfo& info) {
  if (info.coalesced) return 3;
  if (info.cache_status == "HIT") return 0;
  if (info.cache_status == "MISS") return 1;
  if (info.cache_status == "STALE") return 2;
  return 4;
}

void RequestLatency::record(const http::StreamInfo& info) {
  Pair& pair = histograms_[kindIndex(info.kind)][cacheIndex(info)];
  pair.duration.record(info.end_time - info.start_time);
  if (info.first_byte_time.has_value()) pair.ttfb.record(*info.first_byte_time - info.start_time);
}

}  // namespace modgate::stats
