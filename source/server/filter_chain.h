#pragma once

#include <memory>
#include <vector>

#include "source/common/http/filter.h"
#include "source/filters/access_log/access_log.h"
#include "source/filters/request_stats/request_stats_filter.h"

namespace modgate::server {

// A worker's filter chain for the GOPROXY listeners: the latency
// histograms and the access log (when any listener has one) first, then
// the GOPROXY filter. Auth and policy filters take their places before it.
class FilterChain : public http::FilterChainFactory {
 public:
  FilterChain(stats::RequestLatency& latency, filters::access_log::WorkerAccessLog& access_log,
              http::FilterChainFactory& goproxy)
      : latency_(latency), access_log_(access_log), goproxy_(goproxy) {}

  void createFilterChain(std::vector<http::StreamFilterPtr>& chain) override {
    chain.push_back(std::make_unique<filters::request_stats::RequestStatsFilter>(latency_));
    if (access_log_.enabled()) {
      chain.push_back(std::make_unique<filters::access_log::AccessLogFilter>(access_log_));
    }
    goproxy_.createFilterChain(chain);
  }

 private:
  stats::RequestLatency& latency_;
  filters::access_log::WorkerAccessLog& access_log_;
  http::FilterChainFactory& goproxy_;
};

}  // namespace modgate::server
