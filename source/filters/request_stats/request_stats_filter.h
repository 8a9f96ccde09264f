#pragma once

#include "source/common/http/filter.h"
#include "source/common/stats/request_latency.h"

namespace modgate::filters::request_stats {

// Records every finished stream in its worker's latency histograms
// (stats::RequestLatency), after the response is done. First in the chain
// so it sees every request, whichever filter answers it.
class RequestStatsFilter : public http::StreamFilter {
 public:
  explicit RequestStatsFilter(stats::RequestLatency& latency) : latency_(latency) {}
  void setCallbacks(http::StreamFilterCallbacks&) override {}
  http::FilterHeadersStatus decodeHeaders(http::RequestHeaders&, bool) override {
    return http::FilterHeadersStatus::kContinue;
  }
  void onStreamComplete(const http::StreamInfo& info) override { latency_.record(info); }

 private:
  stats::RequestLatency& latency_;
};

}  // namespace modgate::filters::request_stats
