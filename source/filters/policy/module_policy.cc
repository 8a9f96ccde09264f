#include "source/filters/policy/module_policy.h"

#include "source/common/http/identity.h"
#include "source/goproxy/pseudo_version.h"
#include "source/router/route_table.h"

namespace modgate::filters::policy {
namespace {

using ::modgate::goproxy::RequestKind;

bool isListing(RequestKind kind) {
  return kind == RequestKind::kList || kind == RequestKind::kLatest;
}

// The conditions that do not look at a version: kind, module, who asks.
bool subjectMatches(const PolicyRule& rule, RequestKind kind, std::string_view module,
                    const std::vector<std::string>& principals) {
  if (rule.kinds != 0 && (rule.kinds & router::kindBit(kind)) == 0) return false;
  if (rule.hide_only && !isListing(kind)) return false;
  if (!rule.modules.empty() && !router::matchPrefixPatterns(rule.modules, module)) {
    return false;
  }
  if (rule.anonymous && !principals.empty()) return false;
  if (!rule.principals.empty()) {
    bool any = false;
    for (const auto& pattern : rule.principals) {
      if (http::principalMatches(pattern, principals)) {
        any = true;
        break;
      }
    }
    if (!any) return false;
  }
  return true;
}

bool ruleMatches(const PolicyRule& rule, const PolicyQuery& query,
                 const std::vector<std::string>& principals) {
  if (!subjectMatches(rule, query.kind, query.module, principals)) return false;
  if (rule.hasVersionCondition()) {
    if (query.version.empty()) return false;
    const bool listed = rule.versions.count(std::string(query.version)) != 0;
    const bool pseudo = rule.pseudo_versions && ::modgate::goproxy::IsPseudoVersion(query.version);
    const bool retracted = rule.retracted && query.retracted;
    if (!listed && !pseudo && !retracted) return false;
  }
  return true;
}

bool namesVersion(RequestKind kind) {
  return kind == RequestKind::kInfo || kind == RequestKind::kMod || kind == RequestKind::kZip ||
         kind == RequestKind::kSumdbLookup;
}

PolicyQuery queryOf(const ::modgate::goproxy::Request& request) {
  PolicyQuery query;
  query.kind = request.kind;
  query.module = request.module;
  if (namesVersion(request.kind)) query.version = request.version;
  return query;
}

}  // namespace

const PolicyRule* ModulePolicy::decide(const PolicyQuery& query,
                                       const std::vector<std::string>& principals) const {
  if (query.module.empty()) return nullptr;  // sumdb tiles, latest, supported
  for (const auto& rule : rules_) {
    if (ruleMatches(rule, query, principals)) return &rule;
  }
  return nullptr;
}

const PolicyRule* ModulePolicy::decide(const ::modgate::goproxy::Request& request,
                                       const std::vector<std::string>& principals) const {
  return decide(queryOf(request), principals);
}

bool ModulePolicy::needsRetractions(const ::modgate::goproxy::Request& request,
                                    const std::vector<std::string>& principals) const {
  if (request.module.empty()) return false;
  if (!namesVersion(request.kind) && !isListing(request.kind)) return false;
  for (const auto& rule : rules_) {
    if (rule.retracted && subjectMatches(rule, request.kind, request.module, principals)) {
      return true;
    }
  }
  return false;
}

bool ModulePolicy::filtersVersions(const ::modgate::goproxy::Request& request,
                                   const std::vector<std::string>& principals) const {
  if (request.module.empty() || !isListing(request.kind)) return false;
  for (const auto& rule : rules_) {
    if (rule.deny && rule.hasVersionCondition() &&
        subjectMatches(rule, request.kind, request.module, principals)) {
      return true;
    }
  }
  return false;
}

}  // namespace modgate::filters::policy
