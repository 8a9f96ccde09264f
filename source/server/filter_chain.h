#pragma once

#include <memory>
#include <vector>

#include "source/common/common/client_counters.h"
#include "source/common/http/filter.h"
#include "source/filters/access_log/access_log.h"
#include "source/filters/auth/auth_filter.h"
#include "source/filters/goproxy/goproxy_filter.h"
#include "source/filters/policy/module_policy.h"
#include "source/filters/request_stats/request_stats_filter.h"

namespace modgate::server {

// A worker's filter chain for GOPROXY listeners: the latency histograms and
// the access log (when any listener has one) first, so they see every
// answer, then auth (who is asking), the per-client request rate, module
// policy (may they see this module), and the GOPROXY filter. Auth, the rate
// limit and policy are only in the chain when the config uses them, so a
// plain sidecar pays nothing for them. Snapshots arrive by dispatcher posts,
// like the GOPROXY filter's.
class WorkerFilterChain : public http::FilterChainFactory {
 public:
  WorkerFilterChain(stats::RequestLatency& latency,
                    filters::access_log::WorkerAccessLog& access_log,
                    filters::goproxy::GoproxyFilterFactory& goproxy)
      : latency_(latency), access_log_(access_log), goproxy_(goproxy) {}

  void createFilterChain(std::vector<http::StreamFilterPtr>& chain) override;

  // Requests per second per client (0: no rate stage); set once at start.
  void setRateLimit(common::ClientCounters* counters, uint32_t requests_per_second) {
    counters_ = counters;
    requests_per_second_ = requests_per_second;
  }
  // Null turns a stage off. Called on the worker's thread.
  void setSecurity(filters::auth::AuthConfigSharedPtr auth,
                   filters::policy::ModulePolicySharedPtr policy) {
    auth_ = std::move(auth);
    policy_ = std::move(policy);
  }

 private:
  stats::RequestLatency& latency_;
  filters::access_log::WorkerAccessLog& access_log_;
  filters::goproxy::GoproxyFilterFactory& goproxy_;
  filters::auth::AuthConfigSharedPtr auth_;
  filters::policy::ModulePolicySharedPtr policy_;
  filters::auth::VerifiedCache verified_;
  common::ClientCounters* counters_ = nullptr;
  uint32_t requests_per_second_ = 0;
};

}  // namespace modgate::server
