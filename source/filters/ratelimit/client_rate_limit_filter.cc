#include "source/filters/ratelimit/client_rate_limit_filter.h"

#include <chrono>

#include "absl/strings/str_cat.h"

namespace modgate::filters::ratelimit {

http::FilterHeadersStatus ClientRateLimitFilter::decodeHeaders(http::RequestHeaders&, bool) {
  const http::StreamInfo& info = callbacks_->streamInfo();
  std::string_view client = info.principals.empty()
                                ? common::addressWithoutPort(info.remote_address)
                                : std::string_view(info.principals.front());
  const auto now = std::chrono::duration_cast<std::chrono::seconds>(
                       std::chrono::system_clock::now().time_since_epoch())
                       .count();
  if (counters_.countRequest(common::ClientCounters::slotOf(client), requests_per_second_,
                             static_cast<uint64_t>(now))) {
    return http::FilterHeadersStatus::kContinue;
  }
  http::HeaderMap headers;
  headers.add("retry-after", "1");
  callbacks_->sendLocalReply(429,
                             absl::StrCat("modgate: too many requests from ", std::string(client),
                                          " (limit ", requests_per_second_, " per second)"),
                             headers);
  return http::FilterHeadersStatus::kStopIteration;
}

}  // namespace modgate::filters::ratelimit
