#pragma once

#include "source/common/common/client_counters.h"
#include "source/common/http/filter.h"

namespace modgate::filters::ratelimit {

// limits.requests_per_second_per_client: after auth (so an authenticated
// client is counted by its principal, however many addresses it uses, and
// clients behind one NAT address with their own credentials do not share a
// budget), before policy and the GOPROXY filter, so a refused request costs
// nothing more. Answers 429 with "Retry-After: 1" (the windows are one
// second long).
class ClientRateLimitFilter : public http::StreamFilter {
 public:
  ClientRateLimitFilter(common::ClientCounters& counters, uint32_t requests_per_second)
      : counters_(counters), requests_per_second_(requests_per_second) {}

  void setCallbacks(http::StreamFilterCallbacks& callbacks) override { callbacks_ = &callbacks; }
  http::FilterHeadersStatus decodeHeaders(http::RequestHeaders& headers, bool end_stream) override;

 private:
  common::ClientCounters& counters_;
  const uint32_t requests_per_second_;
  http::StreamFilterCallbacks* callbacks_ = nullptr;
};

}  // namespace modgate::filters::ratelimit
