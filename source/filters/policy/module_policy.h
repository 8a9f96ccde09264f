#pragma once

#include <memory>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "source/goproxy/request.h"

namespace modgate::filters::policy {

// One rule of Bootstrap.module_policies, compiled.
struct PolicyRule {
  std::string name;
  bool deny = true;
  std::string modules;  // GOPRIVATE-style globs; empty = every module
  std::set<std::string> versions;
  bool pseudo_versions = false;
  // Versions the module's latest go.mod retracts.
  bool retracted = false;
  // The rule only hides versions from @v/list and @latest; asked for by
  // name they are still served (go.sum pins keep building).
  bool hide_only = false;
  uint32_t kinds = 0;  // router::KindMask bits; 0 = every kind
  std::vector<std::string> principals;
  bool anonymous = false;

  bool hasVersionCondition() const { return !versions.empty() || pseudo_versions || retracted; }
};

// What a rule is asked about: a request, or one version of a module as it
// would appear in an @v/list or @latest answer (`kind` is then kList or
// kLatest and `version` the listed version).
struct PolicyQuery {
  ::modgate::goproxy::RequestKind kind = ::modgate::goproxy::RequestKind::kList;
  std::string_view module;
  std::string_view version;  // empty: the request names no version
  bool retracted = false;    // the version is retracted (when known)
};

// The ordered module policy: a pure engine (no I/O), the first rule that
// matches decides, and a request no rule matches is allowed.
//
// Only requests that name a module are judged: the GOPROXY endpoints and
// checksum-database lookups. sumdb tiles, latest and supported carry no
// module path (a tile holds many modules' hashes) and pass.
//
// Version conditions (versions, pseudo_versions, retracted) judge the
// requests that name a version, and each version of an @v/list or @latest
// answer: a denied version is left out of the list, and @latest never names
// one (the policy filter picks the highest allowed version instead).
class ModulePolicy {
 public:
  explicit ModulePolicy(std::vector<PolicyRule> rules) : rules_(std::move(rules)) {}

  // The matching rule, or null when no rule matches. A request's retracted
  // flag is false: ask needsRetractions() first and use the query form.
  const PolicyRule* decide(const ::modgate::goproxy::Request& request,
                           const std::vector<std::string>& principals) const;
  const PolicyRule* decide(const PolicyQuery& query,
                           const std::vector<std::string>& principals) const;
  // Whether a listed version is allowed (no rule, or an ALLOW rule, matches).
  bool allows(const PolicyQuery& query, const std::vector<std::string>& principals) const {
    const PolicyRule* rule = decide(query, principals);
    return rule == nullptr || !rule->deny;
  }

  // Whether a rule with a `retracted` condition could judge `request` (or,
  // for @v/list and @latest, one of its versions): the module's
  // retractions must then be known before deciding.
  bool needsRetractions(const ::modgate::goproxy::Request& request,
                        const std::vector<std::string>& principals) const;
  // For @v/list and @latest: whether a DENY rule with a version condition
  // could remove versions from the answer, which must then be filtered.
  bool filtersVersions(const ::modgate::goproxy::Request& request,
                       const std::vector<std::string>& principals) const;
  bool empty() const { return rules_.empty(); }

 private:
  std::vector<PolicyRule> rules_;
};
using ModulePolicySharedPtr = std::shared_ptr<const ModulePolicy>;

}  // namespace modgate::filters::policy
