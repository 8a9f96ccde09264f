#include "source/cache/cache_key.h"

#include <string>

#include "gtest/gtest.h"

namespace modgate::cache {
namespace {

TEST(CacheKeyTest, AcceptsProtocolPaths) {
  for (const char* key : {
           "github.com/!burnt!sushi/toml/@v/v1.2.0.zip", "github.com/a/b/@v/list",
           "github.com/a/b/@latest", "golang.org/x/mod/@v/v0.14.0-0.20231101.info",
           "gopkg.in/yaml.v3/@v/v3.0.1+incompatible.mod", "sumdb/sum.golang.org/tile/8/0/000.p/46",
           "sumdb/sum.golang.org/tile/8/data/x001/234",
           "sumdb/sum.golang.org/lookup/github.com/a/b@v1.0.0", "sumdb/sum.golang.org/supported",
           "...a",  // dots inside a segment are fine
       }) {
    EXPECT_TRUE(ValidateCacheKey(key).ok()) << key;
  }
}

TEST(CacheKeyTest, RefusesEscapesAndOddities) {
  for (const std::string& key : {
           std::string(""),
           std::string("/abs"),
           std::string("a/../b"),
           std::string(".."),
           std::string("../a"),
           std::string("a/.."),
           std::string("a/./b"),
           std::string("."),
           std::string("a//b"),
           std::string("a/"),
           std::string("a\\b"),
           std::string("a\nb"),
           std::string("a\0b", 3),
           std::string("a/") + std::string(256, 'x'),
           std::string(4001, 'x'),
       }) {
    absl::Status status = ValidateCacheKey(key);
    EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << key;
  }
  EXPECT_TRUE(ValidateCacheKey(std::string(255, 'x')).ok());
}

}  // namespace
}  // namespace modgate::cache
