#include "source/filters/policy/policy_filter.h"

#include <variant>

#include "absl/strings/str_cat.h"
#include "source/common/common/logger.h"

namespace modgate::filters::policy {

http::FilterHeadersStatus PolicyFilter::decodeHeaders(http::RequestHeaders& headers, bool) {
  auto parsed = ::modgate::goproxy::ParseRequest(headers.path);
  const auto* request = std::get_if<::modgate::goproxy::Request>(&parsed);
  if (request == nullptr) return http::FilterHeadersStatus::kContinue;
  const PolicyRule* rule = policy_->decide(*request, callbacks_->streamInfo().principals);
  if (rule == nullptr || !rule->deny) return http::FilterHeadersStatus::kContinue;
  LOG_DEBUG("policy ", rule->name, " denies ", request->cache_key);
  callbacks_->sendLocalReply(403, absl::StrCat("modgate: module ", request->module,
                                               " is blocked by policy \"", rule->name, "\""));
  return http::FilterHeadersStatus::kStopIteration;
}

}  // namespace modgate::filters::policy
