#include "source/config/yaml_lines.h"

#include "gtest/gtest.h"

namespace modgate::config {
namespace {

constexpr std::string_view kYaml = R"(clusters:
  - name: a
    endpoints:
      - url: http://a
  - name: b
    endpoints:
      - url: http://b
        healthCheckPath: /x
runtime:
  routes.a: 1
routes:
  - {name: r, cluster: a}
)";

TEST(YamlLinesTest, FindsFieldsByPath) {
  EXPECT_EQ(LineOfField(kYaml, "clusters[1].endpoints[0].url"), 7);
  EXPECT_EQ(LineOfField(kYaml, "clusters[1].endpoints[0].health_check_path"), 8);
  EXPECT_EQ(LineOfField(kYaml, "runtime[\"routes.a\"]"), 10);
  EXPECT_EQ(LineOfField(kYaml, "routes[0].cluster"), 12);
  EXPECT_EQ(LineOfField(kYaml, "clusters[1]"), 5);
  EXPECT_EQ(LineOfField(kYaml, "clusters[2]"), std::nullopt);
  EXPECT_EQ(LineOfField(kYaml, "cache.dir"), std::nullopt);
  EXPECT_EQ(LineOfField("{{{", "a"), std::nullopt);
}

TEST(YamlLinesTest, AnnotatesEachErrorLineItCanPlace) {
  absl::Status status = absl::InvalidArgumentError(
      "routes[0].cluster: unknown cluster \"a\"\ncache.dir: required\nline 3: x: y");
  EXPECT_EQ(AnnotateLines(status, kYaml).message(),
            "line 12: routes[0].cluster: unknown cluster \"a\"\ncache.dir: required\nline 3: x: y");
  EXPECT_TRUE(AnnotateLines(absl::OkStatus(), kYaml).ok());
}

}  // namespace
}  // namespace modgate::config
