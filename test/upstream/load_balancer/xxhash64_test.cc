#include "source/upstream/load_balancer/xxhash64.h"

#include "gtest/gtest.h"
#include "source/upstream/load_balancer/module_path_hash.h"

namespace modgate::upstream {
namespace {

// Expected values from the reference implementation (xxhsum -H64, v0.8.1),
// covering each input-length path: <4, 4..7, 8..31 and >=32 bytes.
TEST(XxHash64Test, MatchesReferenceImplementation) {
  EXPECT_EQ(xxHash64(""), 0xEF46DB3751D8E999ULL);
  EXPECT_EQ(xxHash64("a"), 0xD24EC4F1A98C6E5BULL);
  EXPECT_EQ(xxHash64("abc"), 0x44BC2CF5AD770999ULL);
  EXPECT_EQ(xxHash64("abcde"), 0x07E3670C0C8DC7EBULL);
  EXPECT_EQ(xxHash64("abcdefghijkl"), 0x4B09B7D3A233D4B3ULL);
  EXPECT_EQ(xxHash64("10.0.0.1:443_0"), 0x1D6505E9ABEED0B3ULL);
  EXPECT_EQ(xxHash64("The quick brown fox jumps over the lazy dog"), 0x0B242D361FDA71BCULL);
  EXPECT_EQ(xxHash64(std::string(100, 'x')), 0x92F0DE5A88A3C094ULL);
}

TEST(XxHash64Test, SeedChangesTheHash) {
  EXPECT_NE(xxHash64("abc", 0), xxHash64("abc", 1));
  EXPECT_EQ(xxHash64("abc", 1), xxHash64("abc", 1));
}

TEST(ModulePathHashTest, IsXxHash64WithSeedZero) {
  // Pinned: changing these values reshuffles every module across upstreams.
  EXPECT_EQ(hashModulePath("golang.org/x/mod"), 0x7AD448E5E73F0ECEULL);
  EXPECT_EQ(hashModulePath("github.com/stretchr/testify"), 0x8BE3A60769331821ULL);
  EXPECT_NE(hashModulePath("github.com/!azure/go"), hashModulePath("github.com/azure/go"));
}

}  // namespace
}  // namespace modgate::upstream
