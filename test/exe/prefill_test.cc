#include "source/exe/prefill.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace modgate::exe {
namespace {

using ::testing::HasSubstr;

TEST(PrefillInputTest, GoSumMergesZipAndGoModLines) {
  absl::StatusOr<std::vector<PrefillItem>> items = ParseGoSum(
      "github.com/google/uuid v1.3.0 h1:zip=\n"
      "github.com/google/uuid v1.3.0/go.mod h1:mod=\n"
      "\n"
      "golang.org/x/sys v0.3.0/go.mod h1:only=\n");
  ASSERT_TRUE(items.ok()) << items.status();
  ASSERT_EQ(items->size(), 2u);
  EXPECT_EQ((*items)[0].module, "github.com/google/uuid");
  EXPECT_EQ((*items)[0].version, "v1.3.0");
  EXPECT_EQ((*items)[0].zip_hash, "h1:zip=");
  EXPECT_EQ((*items)[0].mod_hash, "h1:mod=");
  EXPECT_FALSE((*items)[0].mod_only);
  EXPECT_EQ((*items)[1].module, "golang.org/x/sys");
  EXPECT_TRUE((*items)[1].mod_only);
}

TEST(PrefillInputTest, GoModRequires) {
  absl::StatusOr<std::vector<PrefillItem>> items = ParseGoModRequires(
      "module example.com/app\n\ngo 1.19\n\n"
      "require github.com/spf13/cobra v1.6.1\n"
      "require (\n"
      "\tgithub.com/google/uuid v1.3.0 // indirect\n"
      "\tgithub.com/patrickmn/go-cache v2.1.0+incompatible\n"
      ")\n"
      "replace example.com/x => ../x\n");
  ASSERT_TRUE(items.ok()) << items.status();
  ASSERT_EQ(items->size(), 3u);
  EXPECT_EQ((*items)[0].module, "github.com/spf13/cobra");
  EXPECT_EQ((*items)[1].version, "v1.3.0");
  EXPECT_EQ((*items)[2].version, "v2.1.0+incompatible");
  EXPECT_TRUE((*items)[2].zip_hash.empty());
}

TEST(PrefillInputTest, ListTakesBothSpellings) {
  absl::StatusOr<std::vector<PrefillItem>> items =
      ParseModuleList("# warm-up\ngithub.com/google/uuid@v1.3.0\ngithub.com/spf13/pflag v1.0.5\n");
  ASSERT_TRUE(items.ok()) << items.status();
  ASSERT_EQ(items->size(), 2u);
  EXPECT_EQ((*items)[1].module, "github.com/spf13/pflag");
  EXPECT_EQ((*items)[1].version, "v1.0.5");
}

TEST(PrefillInputTest, ErrorsNameTheLine) {
  EXPECT_THAT(ParseModuleList("github.com/a/b@v1.0.0\nnot a module line\n").status().message(),
              HasSubstr("line 2: "));
  EXPECT_THAT(ParseModuleList("github.com/a/b@banana\n").status().message(), HasSubstr("line 1: "));
  EXPECT_THAT(ParseGoSum("github.com/a/b v1.0.0 sha256:x\n").status().message(),
              HasSubstr("line 1: want"));
  EXPECT_THAT(ParseGoModRequires("require (\n\tBad Path v1.0.0\n)\n").status().message(),
              HasSubstr("line 2: "));
}

}  // namespace
}  // namespace modgate::exe
