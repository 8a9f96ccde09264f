#include "source/filters/policy/module_policy.h"

#include <gtest/gtest.h>

#include <variant>

#include "source/router/route_table.h"

namespace modgate::filters::policy {
namespace {

goproxy::Request parse(std::string_view target) {
  auto parsed = goproxy::ParseRequest(target);
  EXPECT_TRUE(std::holds_alternative<goproxy::Request>(parsed)) << target;
  return std::get<goproxy::Request>(parsed);
}

ModulePolicy policy() {
  std::vector<PolicyRule> rules;
  rules.push_back({.name = "no-forks", .modules = "github.com/evil/*"});
  rules.push_back({.name = "bad", .modules = "github.com/acme/x", .versions = {"v1.2.3"}});
  rules.push_back({.name = "no-pseudo", .modules = "github.com/acme/y", .pseudo_versions = true});
  rules.push_back({.name = "ci",
                   .deny = false,
                   .modules = "corp.example/*",
                   .principals = {"spiffe://ci.test/*"}});
  rules.push_back({.name = "private", .modules = "corp.example/*"});
  return ModulePolicy(std::move(rules));
}

std::string decide(const ModulePolicy& p, std::string_view target,
                   std::vector<std::string> principals = {}) {
  const PolicyRule* rule = p.decide(parse(target), principals);
  if (rule == nullptr) return "-";
  return (rule->deny ? "deny " : "allow ") + rule->name;
}

TEST(ModulePolicy, EveryEndpointAndSumdbLookups) {
  ModulePolicy p = policy();
  for (auto target : {"/github.com/evil/fork/@v/list", "/github.com/evil/fork/@latest",
                      "/github.com/evil/fork/@v/v1.0.0.info", "/github.com/evil/fork/@v/v1.0.0.mod",
                      "/github.com/evil/fork/@v/v1.0.0.zip",
                      "/sumdb/sum.golang.org/lookup/github.com/evil/fork@v1.0.0"}) {
    EXPECT_EQ(decide(p, target), "deny no-forks") << target;
  }
  EXPECT_EQ(decide(p, "/sumdb/sum.golang.org/tile/8/0/000"), "-");
  EXPECT_EQ(decide(p, "/github.com/good/mod/@v/list"), "-");
}

TEST(ModulePolicy, Versions) {
  ModulePolicy p = policy();
  EXPECT_EQ(decide(p, "/github.com/acme/x/@v/v1.2.3.zip"), "deny bad");
  EXPECT_EQ(decide(p, "/github.com/acme/x/@v/v1.2.4.zip"), "-");
  EXPECT_EQ(decide(p, "/github.com/acme/x/@v/list"), "-");
  EXPECT_EQ(decide(p, "/github.com/acme/y/@v/v0.0.0-20230101000000-abcdef123456.mod"),
            "deny no-pseudo");
  EXPECT_EQ(decide(p, "/github.com/acme/y/@v/v1.0.0.mod"), "-");
}

TEST(ModulePolicy, Principals) {
  ModulePolicy p = policy();
  EXPECT_EQ(decide(p, "/corp.example/lib/@v/list", {"spiffe://ci.test/builder"}), "allow ci");
  EXPECT_EQ(decide(p, "/corp.example/lib/@v/list", {"user:alice"}), "deny private");
  EXPECT_EQ(decide(p, "/corp.example/lib/@v/list"), "deny private");
}

TEST(ModulePolicy, ListedVersionsAndRetractions) {
  std::vector<PolicyRule> rules;
  rules.push_back({.name = "retracted", .modules = "github.com/acme/r", .retracted = true});
  rules.push_back(
      {.name = "hide", .modules = "github.com/acme/h", .versions = {"v1.9.0"}, .hide_only = true});
  rules.push_back({.name = "bad", .modules = "github.com/acme/x", .versions = {"v1.2.3"}});
  ModulePolicy p(std::move(rules));
  using goproxy::RequestKind;
  const std::vector<std::string> anyone;

  // A listed version is judged by the version rules.
  EXPECT_FALSE(p.allows({RequestKind::kList, "github.com/acme/x", "v1.2.3"}, anyone));
  EXPECT_TRUE(p.allows({RequestKind::kList, "github.com/acme/x", "v1.2.4"}, anyone));
  EXPECT_FALSE(p.allows({RequestKind::kLatest, "github.com/acme/x", "v1.2.3"}, anyone));
  // Retracted only when known to be.
  EXPECT_FALSE(p.allows({RequestKind::kList, "github.com/acme/r", "v1.0.0", true}, anyone));
  EXPECT_TRUE(p.allows({RequestKind::kList, "github.com/acme/r", "v1.0.0", false}, anyone));
  EXPECT_FALSE(p.allows({RequestKind::kZip, "github.com/acme/r", "v1.0.0", true}, anyone));
  // hide_only: hidden from listings, served by name.
  EXPECT_FALSE(p.allows({RequestKind::kList, "github.com/acme/h", "v1.9.0"}, anyone));
  EXPECT_FALSE(p.allows({RequestKind::kLatest, "github.com/acme/h", "v1.9.0"}, anyone));
  EXPECT_EQ(decide(p, "/github.com/acme/h/@v/v1.9.0.zip"), "-");

  // Which requests need the module's versions read first.
  EXPECT_TRUE(p.needsRetractions(parse("/github.com/acme/r/@v/v1.0.0.info"), anyone));
  EXPECT_TRUE(p.needsRetractions(parse("/github.com/acme/r/@v/list"), anyone));
  EXPECT_FALSE(p.needsRetractions(parse("/github.com/acme/x/@v/v1.0.0.info"), anyone));
  EXPECT_FALSE(p.needsRetractions(parse("/sumdb/sum.golang.org/tile/8/0/000"), anyone));
  for (auto target :
       {"/github.com/acme/r/@v/list", "/github.com/acme/h/@latest", "/github.com/acme/x/@v/list"}) {
    EXPECT_TRUE(p.filtersVersions(parse(target), anyone)) << target;
  }
  EXPECT_FALSE(p.filtersVersions(parse("/github.com/other/m/@v/list"), anyone));
  EXPECT_FALSE(p.filtersVersions(parse("/github.com/acme/x/@v/v1.2.3.info"), anyone));
}

}  // namespace
}  // namespace modgate::filters::policy
