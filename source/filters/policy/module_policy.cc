#include "source/filters/policy/module_policy.h"

#include "source/common/http/identity.h"
#include "source/goproxy/pseudo_version.h"
#include "source/router/route_table.h"

namespace modgate::filters::policy {
namespace {

bool namesVersion(::modgate::goproxy::RequestKind kind) {
  return kind == ::modgate::goproxy::RequestKind::kInfo ||
         kind == ::modgate::goproxy::RequestKind::kMod ||
         kind == ::modgate::goproxy::RequestKind::kZip ||
         kind == ::modgate::goproxy::RequestKind::kSumdbLookup;
}

bool ruleMatches(const PolicyRule& rule, const ::modgate::goproxy::Request& request,
                 const std::vector<std::string>& principals) {
  if (rule.kinds != 0 && (rule.kinds & router::kindBit(request.kind)) == 0) return false;
  if (!rule.modules.empty() && !router::matchPrefixPatterns(rule.modules, request.module)) {
    return false;
  }
  if (!rule.versions.empty() || rule.pseudo_versions) {
    if (!namesVersion(request.kind)) return false;
    bool listed = rule.versions.count(request.version) != 0;
    bool pseudo = rule.pseudo_versions && ::modgate::goproxy::IsPseudoVersion(request.version);
    if (!listed && !pseudo) return false;
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

}  // namespace

const PolicyRule* ModulePolicy::decide(const ::modgate::goproxy::Request& request,
                                       const std::vector<std::string>& principals) const {
  if (request.module.empty()) return nullptr;  // sumdb tiles, latest, supported
  for (const auto& rule : rules_) {
    if (ruleMatches(rule, request, principals)) return &rule;
  }
  return nullptr;
}

}  // namespace modgate::filters::policy
