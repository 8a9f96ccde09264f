#include "source/server/runtime.h"

#include "gtest/gtest.h"
#include "source/admin/query_params.h"
#include "source/common/json/proto_json.h"

namespace modgate::server {
namespace {

using admin::parseQuery;
using admin::queryValue;

TEST(RuntimeTest, OverridesWinOverTheStaticLayerAndSurviveItsReplacement) {
  Runtime runtime;
  runtime.setStaticLayer({{"routes.a.x", 1}, {"routes.a.y", 2}});
  ASSERT_TRUE(runtime.setOverride("routes.a.x", "10").ok());
  EXPECT_EQ(runtime.snapshot(),
            (std::map<std::string, uint64_t>{{"routes.a.x", 10}, {"routes.a.y", 2}}));
  // A reload replaces the static layer; the override stays.
  runtime.setStaticLayer({{"routes.a.y", 3}});
  EXPECT_EQ(runtime.snapshot(),
            (std::map<std::string, uint64_t>{{"routes.a.x", 10}, {"routes.a.y", 3}}));
  ASSERT_TRUE(runtime.setOverride("routes.a.x", "").ok());
  EXPECT_EQ(runtime.snapshot(), (std::map<std::string, uint64_t>{{"routes.a.y", 3}}));
  EXPECT_EQ(json::ToJson(runtime.status()),
            "{\"static\":{\"routes.a.y\":3},\"overrides\":{},\"effective\":{\"routes.a.y\":3}}");
}

TEST(RuntimeTest, RejectsBadKeysAndValues) {
  Runtime runtime;
  EXPECT_EQ(runtime.setOverride("Upper", "1").message(),
            "invalid runtime key \"Upper\" (dot-separated segments of a-z 0-9 _ -)");
  EXPECT_FALSE(runtime.setOverride("a..b", "1").ok());
  EXPECT_FALSE(runtime.setOverride(".a", "1").ok());
  EXPECT_EQ(runtime.setOverride("a.b", "-1").message(),
            "a.b: \"-1\" is not a non-negative integer");
  EXPECT_FALSE(runtime.setOverride("a.b", "+1").ok());
  EXPECT_FALSE(runtime.setOverride("a.b", "1x").ok());
  EXPECT_FALSE(runtime.setOverride("a.b", "99999999999999999999999").ok());
  EXPECT_TRUE(runtime.snapshot().empty());
}

TEST(QueryParamsTest, DecodesPairs) {
  auto pairs = parseQuery("route=public&reason=canary+fixed%21&flag&&x=%zz");
  ASSERT_EQ(pairs.size(), 4u);
  EXPECT_EQ(pairs[0], (std::pair<std::string, std::string>{"route", "public"}));
  EXPECT_EQ(pairs[1], (std::pair<std::string, std::string>{"reason", "canary fixed!"}));
  EXPECT_EQ(pairs[2], (std::pair<std::string, std::string>{"flag", ""}));
  EXPECT_EQ(pairs[3], (std::pair<std::string, std::string>{"x", "%zz"}));
  EXPECT_EQ(queryValue("a=1&b=2&b=3", "b"), "2");
  EXPECT_EQ(queryValue("a=1", "b"), "");
  EXPECT_EQ(queryValue("a=%4", "a"), "%4");
}

}  // namespace
}  // namespace modgate::server
