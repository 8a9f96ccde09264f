#pragma once

#include "source/common/http/filter.h"
#include "source/filters/policy/module_policy.h"

namespace modgate::filters::policy {

// Applies the module policy to every request before the GOPROXY filter,
// so a denied module is answered from here: never looked up in the cache,
// never asked of an upstream or a checksum database. The 403 reason is the
// one line the go command prints:
//   modgate: module example.com/x is blocked by policy "no-forks"
// Requests that do not parse are left to the GOPROXY filter, which answers
// them with its own 4xx.
class PolicyFilter : public http::StreamFilter {
 public:
  explicit PolicyFilter(ModulePolicySharedPtr policy) : policy_(std::move(policy)) {}

  void setCallbacks(http::StreamFilterCallbacks& callbacks) override { callbacks_ = &callbacks; }
  http::FilterHeadersStatus decodeHeaders(http::RequestHeaders& headers, bool end_stream) override;

 private:
  ModulePolicySharedPtr policy_;
  http::StreamFilterCallbacks* callbacks_ = nullptr;
};

}  // namespace modgate::filters::policy
