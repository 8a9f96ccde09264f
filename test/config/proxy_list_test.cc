#include "source/config/proxy_list.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace modgate::config {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using On = v1::FallbackStep;

TEST(ParseProxyListTest, SeparatorsBecomeStepModes) {
  absl::StatusOr<std::vector<ProxyListEntry>> entries =
      ParseProxyList("https://a.example,https://b.example|http://c.example:3000");
  ASSERT_TRUE(entries.ok()) << entries.status();
  EXPECT_THAT(*entries, ElementsAre(ProxyListEntry{"https://a.example", On::NOT_FOUND},
                                    ProxyListEntry{"https://b.example", On::ANY_ERROR},
                                    ProxyListEntry{"http://c.example:3000", On::ON_UNSPECIFIED}));
}

TEST(ParseProxyListTest, SingleEntry) {
  absl::StatusOr<std::vector<ProxyListEntry>> entries = ParseProxyList("https://a.example");
  ASSERT_TRUE(entries.ok());
  EXPECT_THAT(*entries, ElementsAre(ProxyListEntry{"https://a.example", On::ON_UNSPECIFIED}));
}

TEST(ParseProxyListTest, FileTreesAreUpstreamsToo) {
  absl::StatusOr<std::vector<ProxyListEntry>> entries =
      ParseProxyList("file:///srv/goproxy,https://a.example");
  ASSERT_TRUE(entries.ok()) << entries.status();
  EXPECT_THAT(*entries, ElementsAre(ProxyListEntry{"file:///srv/goproxy", On::NOT_FOUND},
                                    ProxyListEntry{"https://a.example", On::ON_UNSPECIFIED}));
  EXPECT_THAT(ParseProxyList("file:relative").status().message(),
              HasSubstr("expected file:///absolute/directory"));
}

TEST(ParseProxyListTest, RejectsDirectOffAndJunk) {
  absl::StatusOr<std::vector<ProxyListEntry>> entries =
      ParseProxyList("https://proxy.golang.org,direct");
  ASSERT_FALSE(entries.ok());
  EXPECT_THAT(entries.status().message(), HasSubstr("\"direct\" is not supported"));
  EXPECT_THAT(entries.status().message(), HasSubstr("cannot fetch from version control"));
  EXPECT_THAT(ParseProxyList("off").status().message(), HasSubstr("\"off\" is not supported"));
  EXPECT_THAT(ParseProxyList("https://a,,https://b").status().message(),
              HasSubstr("entry 2 of \"https://a,,https://b\" is empty"));
  EXPECT_THAT(ParseProxyList("https://a|").status().message(), HasSubstr("is empty"));
  EXPECT_THAT(ParseProxyList("https://a,proxy.golang.org").status().message(),
              HasSubstr("entry 2: invalid URL \"proxy.golang.org\""));
  EXPECT_FALSE(ParseProxyList("").ok());
}

TEST(ApplyProxyListTest, ThreeEntriesMakeAFallbackChain) {
  v1::Bootstrap b;
  b.add_clusters()->set_name("old");
  b.add_routes()->set_cluster("old");
  b.add_sumdbs()->set_name("sum.golang.org");
  ApplyProxyList(*ParseProxyList("https://a,https://b|https://c"), b);

  ASSERT_EQ(b.clusters_size(), 3);
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(b.clusters(i).name(), "upstream" + std::to_string(i));
    ASSERT_EQ(b.clusters(i).endpoints_size(), 1);
  }
  EXPECT_EQ(b.clusters(2).endpoints(0).url(), "https://c");
  ASSERT_EQ(b.routes_size(), 1);
  const v1::Route& route = b.routes(0);
  EXPECT_FALSE(route.has_match());
  ASSERT_EQ(route.fallback().steps_size(), 3);
  // After a, ',' : only 404/410 moves on; after b, '|': any error does.
  EXPECT_EQ(route.fallback().steps(0).cluster(), "upstream0");
  EXPECT_EQ(route.fallback().steps(0).on(), On::NOT_FOUND);
  EXPECT_EQ(route.fallback().steps(1).cluster(), "upstream1");
  EXPECT_EQ(route.fallback().steps(1).on(), On::ANY_ERROR);
  EXPECT_EQ(route.fallback().steps(2).cluster(), "upstream2");
  EXPECT_EQ(route.fallback().steps(2).on(), On::ON_UNSPECIFIED);
  EXPECT_EQ(b.sumdbs_size(), 1);
}

TEST(ApplyProxyListTest, OneEntryRoutesDirectly) {
  v1::Bootstrap b;
  ApplyProxyList(*ParseProxyList("https://a"), b);
  ASSERT_EQ(b.routes_size(), 1);
  EXPECT_EQ(b.routes(0).cluster(), "upstream0");
}

}  // namespace
}  // namespace modgate::config
