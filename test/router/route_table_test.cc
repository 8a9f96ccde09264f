#include "source/router/route_table.h"

#include "gtest/gtest.h"

namespace modgate::router {
namespace {

ClusterSharedPtr testCluster() {
  upstream::ClusterInfo info;
  info.name = "c";
  return std::make_shared<upstream::Cluster>(info, std::vector<upstream::HostSharedPtr>{},
                                             upstream::ClusterStats{});
}

// Cases from golang.org/x/mod/module TestMatchPrefixPatterns.
TEST(MatchPrefixPatternsTest, GoCases) {
  struct Case {
    const char* globs;
    const char* target;
    bool want;
  };
  const Case cases[] = {
      {"", "rsc.io/quote", false},
      {"/", "rsc.io/quote", false},
      {"*/quote", "rsc.io/quote", true},
      {"*/quo", "rsc.io/quote", false},
      {"*/quo??", "rsc.io/quote", true},
      {"*/quo*", "rsc.io/quote", true},
      {"*quo*", "rsc.io/quote", false},
      {"rsc.io", "rsc.io/quote", true},
      {"*.io", "rsc.io/quote", true},
      {"rsc.io/", "rsc.io/quote", true},
      {"rsc", "rsc.io/quote", false},
      {"rsc*", "rsc.io/quote", true},
      {"rsc.io", "rsc.io/quote/v3", true},
      {"*/quote", "rsc.io/quote/v3", true},
      {"*/quote/", "rsc.io/quote/v3", true},
      {"*/quote/*", "rsc.io/quote/v3", true},
      {"*/quote/*/", "rsc.io/quote/v3", true},
      {"*/v3", "rsc.io/quote/v3", false},
      {"*/*/v3", "rsc.io/quote/v3", true},
      {"*/*/*", "rsc.io/quote/v3", true},
      {"*/*/*/", "rsc.io/quote/v3", true},
      {"*/*/*", "rsc.io/quote", false},
      {"*/*/*/", "rsc.io/quote", false},
      {"*/*/*,,", "rsc.io/quote", false},
      {"*/*/*,,*/quote", "rsc.io/quote", true},
      {",,*/quote", "rsc.io/quote", true},
  };
  for (const auto& c : cases) {
    EXPECT_EQ(matchPrefixPatterns(c.globs, c.target), c.want)
        << "globs=" << c.globs << " target=" << c.target;
  }
}

TEST(GlobMatchTest, PathMatchBasics) {
  EXPECT_TRUE(globMatch("abc", "abc"));
  EXPECT_TRUE(globMatch("*", "abc"));
  EXPECT_TRUE(globMatch("*c", "abc"));
  EXPECT_FALSE(globMatch("a*", "ab/c"));
  EXPECT_TRUE(globMatch("a*/b", "abc/b"));
  EXPECT_TRUE(globMatch("a*b*c*d*e*/f", "axbxcxdxe/f"));
  EXPECT_FALSE(globMatch("a*b*c*d*e*/f", "axbxcxdxe/xxx/f"));
  EXPECT_TRUE(globMatch("ab[c]", "abc"));
  EXPECT_TRUE(globMatch("ab[b-d]", "abc"));
  EXPECT_FALSE(globMatch("ab[^c]", "abc"));
  EXPECT_FALSE(globMatch("a?b", "a/b"));
  EXPECT_FALSE(globMatch("a*b", "a/b"));
  EXPECT_TRUE(globMatch("corp.example.com", "corp.example.com"));
}

TEST(RouteTableTest, FirstMatchingRouteWins) {
  auto cluster = testCluster();
  Route private_route;
  private_route.name = "private";
  private_route.match.patterns = {"corp.example.com"};
  private_route.chain.push_back(ChainStep{cluster, Fallthrough::kNotFound});
  Route zips;
  zips.name = "zips";
  zips.match.kinds = kKindZip;
  zips.direct_response = DirectResponse{403, "no zips"};
  Route all;
  all.name = "all";
  all.chain.push_back(ChainStep{cluster, Fallthrough::kNotFound});
  RouteTable table({private_route, zips, all}, {});

  http::RequestHeaders headers;
  goproxy::Request request;
  request.kind = goproxy::RequestKind::kList;
  request.module = "corp.example.com/lib";
  EXPECT_EQ(table.match(request, headers)->name, "private");
  request.module = "corp.example.company/lib";
  EXPECT_EQ(table.match(request, headers)->name, "all");
  request.kind = goproxy::RequestKind::kZip;
  EXPECT_EQ(table.match(request, headers)->name, "zips");
}

TEST(RouteTableTest, HeaderConditions) {
  auto cluster = testCluster();
  Route canary;
  canary.name = "canary";
  canary.match.headers.push_back({"x-canary", std::string("1"), true, false});
  canary.chain.push_back(ChainStep{cluster, Fallthrough::kNotFound});
  Route no_auth;
  no_auth.name = "no-auth";
  no_auth.match.headers.push_back({"authorization", std::nullopt, false, false});
  no_auth.direct_response = DirectResponse{403, "authorization required"};
  Route all;
  all.name = "all";
  all.chain.push_back(ChainStep{cluster, Fallthrough::kNotFound});
  RouteTable table({canary, no_auth, all}, {});

  goproxy::Request request;
  request.module = "example.com/m";
  http::RequestHeaders headers;
  EXPECT_EQ(table.match(request, headers)->name, "no-auth");
  headers.headers.add("authorization", "Bearer x");
  EXPECT_EQ(table.match(request, headers)->name, "all");
  headers.headers.add("x-canary", "2");
  EXPECT_EQ(table.match(request, headers)->name, "all");
  http::RequestHeaders pinned;
  pinned.headers.add("x-canary", "1");
  EXPECT_EQ(table.match(request, pinned)->name, "canary");
}

}  // namespace
}  // namespace modgate::router
