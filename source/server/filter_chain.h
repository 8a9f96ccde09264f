#pragma once

#include <memory>
#include <vector>

#include "source/common/http/filter.h"
#include "source/filters/access_log/access_log.h"

namespace modgate::server {

// A worker's filter chain for the GOPROXY listeners: the access log first
// (when any listener has one), then the GOPROXY filter. Auth and policy
// filters take their places between the two.
class FilterChain : public http::FilterChainFactory {
 public:
  FilterChain(filters::access_log::WorkerAccessLog& access_log, http::FilterChainFactory& goproxy)
      : access_log_(access_log), goproxy_(goproxy) {}

  void createFilterChain(std::vector<http::StreamFilterPtr>& chain) override {
    if (access_log_.enabled()) {
      chain.push_back(std::make_unique<filters::access_log::AccessLogFilter>(access_log_));
    }
    goproxy_.createFilterChain(chain);
  }

 private:
  filters::access_log::WorkerAccessLog& access_log_;
  http::FilterChainFactory& goproxy_;
};

}  // namespace modgate::server
