#pragma once

#include <memory>
#include <string>

#include "source/common/http/filter.h"
#include "source/filters/goproxy/goproxy_config.h"
#include "source/filters/goproxy/worker_context.h"
#include "source/filters/policy/module_policy.h"
#include "source/filters/policy/module_versions.h"

namespace modgate::filters::policy {

// Applies the module policy to every request before the GOPROXY filter,
// so a denied module is answered from here: never looked up in the cache,
// never asked of an upstream or a checksum database. The 403 reason is the
// one line the go command prints:
//   modgate: module example.com/x is blocked by policy "no-forks"
// Requests that do not parse are left to the GOPROXY filter, which answers
// them with its own 4xx.
//
// Version rules need more than the request when they look at retractions
// or judge the versions of a listing. Then this filter reads the module's
// @v/list (and its latest go.mod for `retract` directives) through the
// cache first (readModuleVersions), and
//  - a version request (.info/.mod/.zip, sumdb lookup) is decided with
//    the version's retraction known, then continues or gets its 403;
//  - @v/list is answered here, without the denied versions;
//  - @latest is answered here: the upstream's answer when its version is
//    allowed, else the .info of the highest allowed listed version (as the
//    go command picks "latest": releases before prereleases), else 403.
// A plain policy (no version rules for the module) costs nothing of this.
class PolicyFilter : public http::StreamFilter {
 public:
  PolicyFilter(ModulePolicySharedPtr policy, goproxy::GoproxyConfigSharedPtr config,
               goproxy::WorkerContext& worker)
      : policy_(std::move(policy)), config_(std::move(config)), worker_(worker) {}
  ~PolicyFilter() override { *alive_ = false; }

  void setCallbacks(http::StreamFilterCallbacks& callbacks) override { callbacks_ = &callbacks; }
  http::FilterHeadersStatus decodeHeaders(http::RequestHeaders& headers, bool end_stream) override;
  void onDestroy() override { *alive_ = false; }

 private:
  void deny(const PolicyRule& rule);
  void onVersions(absl::StatusOr<ModuleVersions> versions);
  void answerList(const ModuleVersions& versions);
  void answerLatest(const ModuleVersions& versions, absl::StatusOr<std::string> latest);
  // Answers 200 with `body` (an @v/list or .info), as the GOPROXY filter
  // would have.
  void answer(const std::string& content_type, const std::string& body);
  // A read through the cache failed: 404 if the upstream said so, else 502.
  void answerError(const absl::Status& status);
  // Runs `fn` on this filter later only if its stream still exists.
  template <typename T>
  std::function<void(T)> guarded(std::function<void(T)> fn) {
    return [alive = alive_, fn = std::move(fn)](T value) {
      if (*alive) fn(std::move(value));
    };
  }

  ModulePolicySharedPtr policy_;
  goproxy::GoproxyConfigSharedPtr config_;
  goproxy::WorkerContext& worker_;
  http::StreamFilterCallbacks* callbacks_ = nullptr;
  std::shared_ptr<const ::modgate::goproxy::Request> request_;
  bool head_ = false;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace modgate::filters::policy
