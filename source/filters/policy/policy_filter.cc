#include "source/filters/policy/policy_filter.h"

#include <variant>

#include "absl/strings/str_cat.h"
#include "source/common/common/logger.h"
#include "source/filters/goproxy/cached_files.h"
#include "source/goproxy/module_path.h"

namespace modgate::filters::policy {

using ::modgate::goproxy::RequestKind;

http::FilterHeadersStatus PolicyFilter::decodeHeaders(http::RequestHeaders& headers, bool) {
  auto parsed = worker_.requestCache().parse(headers.path);
  auto* request = std::get_if<std::shared_ptr<const ::modgate::goproxy::Request>>(&parsed);
  if (request == nullptr) return http::FilterHeadersStatus::kContinue;
  request_ = *request;
  head_ = headers.method == "HEAD";
  const auto& principals = callbacks_->streamInfo().principals;
  const bool listing =
      request_->kind == RequestKind::kList || request_->kind == RequestKind::kLatest;
  const bool retractions = policy_->needsRetractions(*request_, principals);
  if (!listing && retractions) {
    // The version's fate depends on the latest go.mod: read it first.
    readModuleVersions(config_, worker_, *request_, principals, true,
                       guarded<absl::StatusOr<ModuleVersions>>(
                           [this](absl::StatusOr<ModuleVersions> v) { onVersions(std::move(v)); }));
    return http::FilterHeadersStatus::kStopIteration;
  }
  const PolicyRule* rule = policy_->decide(*request_, principals);
  if (rule != nullptr && rule->deny) {
    deny(*rule);
    return http::FilterHeadersStatus::kStopIteration;
  }
  // An ALLOW rule that matched the listing without a version condition
  // precedes every version rule, so it allows each listed version too.
  if (rule != nullptr || !listing || !policy_->filtersVersions(*request_, principals)) {
    return http::FilterHeadersStatus::kContinue;
  }
  if (headers.method != "GET" && !head_) return http::FilterHeadersStatus::kContinue;  // 405 there
  http::StreamInfo& info = callbacks_->streamInfo();
  info.module = request_->module;
  info.kind = request_->kind == RequestKind::kList ? "list" : "latest";
  readModuleVersions(config_, worker_, *request_, principals, retractions,
                     guarded<absl::StatusOr<ModuleVersions>>(
                         [this](absl::StatusOr<ModuleVersions> v) { onVersions(std::move(v)); }));
  return http::FilterHeadersStatus::kStopIteration;
}

void PolicyFilter::deny(const PolicyRule& rule) {
  LOG_DEBUG("policy ", rule.name, " denies ", request_->cache_key);
  callbacks_->streamInfo().response_code = 403;
  callbacks_->sendLocalReply(403, absl::StrCat("modgate: module ", request_->module,
                                               " is blocked by policy \"", rule.name, "\""));
}

void PolicyFilter::answerError(const absl::Status& status) {
  const int code = absl::IsNotFound(status) ? 404 : 502;
  callbacks_->streamInfo().response_code = code;
  callbacks_->sendLocalReply(code,
                             absl::StrCat("modgate: ", request_->module, ": ", status.message()));
}

void PolicyFilter::onVersions(absl::StatusOr<ModuleVersions> versions) {
  if (!versions.ok()) {
    // Fail closed: a version the policy cannot judge is not served.
    callbacks_->streamInfo().response_code = 502;
    callbacks_->sendLocalReply(
        502, absl::StrCat("modgate: cannot apply the module policy to ", request_->module, ": ",
                          versions.status().message()));
    return;
  }
  const auto& principals = callbacks_->streamInfo().principals;
  switch (request_->kind) {
    case RequestKind::kList:
      answerList(*versions);
      return;
    case RequestKind::kLatest: {
      auto shared = std::make_shared<ModuleVersions>(*std::move(versions));
      goproxy::readCachedFile(
          config_, worker_, request_->upstream_path, principals,
          guarded<absl::StatusOr<std::string>>([this, shared](absl::StatusOr<std::string> latest) {
            answerLatest(*shared, std::move(latest));
          }));
      return;
    }
    default:
      break;
  }
  PolicyQuery query{request_->kind, request_->module, request_->version,
                    versions->retracted(request_->version)};
  const PolicyRule* rule = policy_->decide(query, principals);
  if (rule != nullptr && rule->deny) {
    deny(*rule);
    return;
  }
  callbacks_->continueDecoding();
}

void PolicyFilter::answerList(const ModuleVersions& versions) {
  const auto& principals = callbacks_->streamInfo().principals;
  std::string body;
  for (const auto& version : versions.list) {
    PolicyQuery query{RequestKind::kList, request_->module, version, versions.retracted(version)};
    if (policy_->allows(query, principals)) absl::StrAppend(&body, version, "\n");
  }
  answer("text/plain; charset=utf-8", body);
}

void PolicyFilter::answerLatest(const ModuleVersions& versions,
                                absl::StatusOr<std::string> latest) {
  if (!latest.ok()) {
    answerError(latest.status());
    return;
  }
  const auto& principals = callbacks_->streamInfo().principals;
  const std::string version = infoVersion(*latest);
  PolicyQuery query{RequestKind::kLatest, request_->module, version, versions.retracted(version)};
  const PolicyRule* rule = policy_->decide(query, principals);
  if (rule == nullptr || !rule->deny) {
    answer("application/json", *latest);
    return;
  }
  std::vector<std::string> allowed;
  for (const auto& listed : versions.list) {
    PolicyQuery q{RequestKind::kLatest, request_->module, listed, versions.retracted(listed)};
    if (policy_->allows(q, principals)) allowed.push_back(listed);
  }
  const std::string best = ::modgate::goproxy::LatestForRetractions(allowed);
  auto escaped = ::modgate::goproxy::EscapeVersion(best);
  if (best.empty() || !escaped.ok()) {
    LOG_DEBUG("policy ", rule->name, " denies ", request_->module, "@latest ", version);
    callbacks_->streamInfo().response_code = 403;
    callbacks_->sendLocalReply(403, absl::StrCat("modgate: module ", request_->module, "@latest (",
                                                 version, ") is blocked by policy \"", rule->name,
                                                 "\" and no other version is allowed"));
    return;
  }
  goproxy::readCachedFile(
      config_, worker_, absl::StrCat("/", request_->escaped_module, "/@v/", *escaped, ".info"),
      principals, guarded<absl::StatusOr<std::string>>([this](absl::StatusOr<std::string> info) {
        if (!info.ok()) {
          answerError(info.status());
          return;
        }
        answer("application/json", *info);
      }));
}

void PolicyFilter::answer(const std::string& content_type, const std::string& body) {
  http::ResponseHeaders response;
  response.status = 200;
  response.headers.add("content-type", content_type);
  response.headers.add("content-length", std::to_string(body.size()));
  // Filtered for this client's policy: shared caches must not reuse it.
  response.headers.add("cache-control", "private, max-age=60");
  callbacks_->streamInfo().response_code = 200;
  const bool end = head_ || body.empty();
  callbacks_->encodeHeaders(response, end);
  if (end) return;
  buffer::Buffer data;
  data.add(body);
  callbacks_->encodeData(data, true);
}

}  // namespace modgate::filters::policy
