#include "source/goproxy/request_cache.h"

#include <string>

#include "gtest/gtest.h"

namespace modgate::goproxy {
namespace {

std::shared_ptr<const Request> Ok(RequestCache& cache, std::string_view target) {
  auto parsed = cache.parse(target);
  auto* request = std::get_if<std::shared_ptr<const Request>>(&parsed);
  EXPECT_NE(request, nullptr) << target;
  return request == nullptr ? nullptr : *request;
}

TEST(RequestCacheTest, AHitIsTheSameParseAsParseRequest) {
  RequestCache cache(16);
  auto first = Ok(cache, "/github.com/!burnt!sushi/toml/@v/v1.2.0.info");
  ASSERT_NE(first, nullptr);
  auto again = Ok(cache, "/github.com/!burnt!sushi/toml/@v/v1.2.0.info");
  EXPECT_EQ(first.get(), again.get());  // shared, not re-parsed
  auto direct = std::get<Request>(ParseRequest("/github.com/!burnt!sushi/toml/@v/v1.2.0.info"));
  EXPECT_EQ(again->kind, direct.kind);
  EXPECT_EQ(again->module, "github.com/BurntSushi/toml");
  EXPECT_EQ(again->cache_key, direct.cache_key);
  EXPECT_EQ(again->upstream_path, direct.upstream_path);
  EXPECT_TRUE(again->canonical_version);
}

TEST(RequestCacheTest, ErrorsAreReturnedAndNeverKept) {
  RequestCache cache(16);
  for (int i = 0; i < 3; ++i) {
    auto parsed = cache.parse("/github.com/BurntSushi/toml/@v/v1.2.0.info");  // not escaped
    auto* error = std::get_if<RequestError>(&parsed);
    ASSERT_NE(error, nullptr);
    EXPECT_EQ(error->status, 400);
    EXPECT_NE(error->reason.find("invalid"), std::string::npos) << error->reason;
  }
  auto parsed = cache.parse("/example.com/m/@v/v1.0.0.nope");
  ASSERT_NE(std::get_if<RequestError>(&parsed), nullptr);
  EXPECT_EQ(std::get<RequestError>(parsed).status, 404);
  EXPECT_EQ(cache.size(), 0u);
}

TEST(RequestCacheTest, BoundedAndKeepsWhatIsInUse) {
  RequestCache cache(8);  // two generations of 4
  auto hot = Ok(cache, "/example.com/hot/@v/list");
  for (int i = 0; i < 100; ++i) {
    Ok(cache, "/example.com/m" + std::to_string(i) + "/@v/list");
    EXPECT_LE(cache.size(), 8u);
    // A target asked for all the time stays cached (moved forward on use).
    EXPECT_EQ(Ok(cache, "/example.com/hot/@v/list").get(), hot.get());
  }
}

}  // namespace
}  // namespace modgate::goproxy
