#pragma once

#include <memory>
#include <set>
#include <string>
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
  uint32_t kinds = 0;  // router::KindMask bits; 0 = every kind
  std::vector<std::string> principals;
  bool anonymous = false;
};

// The ordered module policy: a pure engine (no I/O), the first rule that
// matches decides, and a request no rule matches is allowed.
//
// Only requests that name a module are judged: the GOPROXY endpoints and
// checksum-database lookups. sumdb tiles, latest and supported carry no
// module path (a tile holds many modules' hashes) and pass.
class ModulePolicy {
 public:
  explicit ModulePolicy(std::vector<PolicyRule> rules) : rules_(std::move(rules)) {}

  // The matching rule, or null when no rule matches.
  const PolicyRule* decide(const ::modgate::goproxy::Request& request,
                           const std::vector<std::string>& principals) const;
  bool empty() const { return rules_.empty(); }

 private:
  std::vector<PolicyRule> rules_;
};
using ModulePolicySharedPtr = std::shared_ptr<const ModulePolicy>;

}  // namespace modgate::filters::policy
