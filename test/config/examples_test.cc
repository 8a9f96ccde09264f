// Keeps the configs in examples/ loadable and valid.
#include "gtest/gtest.h"
#include "source/config/command_line.h"

namespace modgate::config {
namespace {

absl::StatusOr<v1::Bootstrap> Build(const std::string& path) {
  absl::StatusOr<CommandLine> cl = ParseCommandLine({"modgate", "validate", "-c", path});
  if (!cl.ok()) return cl.status();
  return BuildBootstrap(*cl);
}

TEST(ExamplesTest, Basic) {
  absl::StatusOr<v1::Bootstrap> b = Build("examples/basic.yaml");
  ASSERT_TRUE(b.ok()) << b.status();
  EXPECT_EQ(b->clusters_size(), 1);
  // The implicit catch-all route.
  ASSERT_EQ(b->routes_size(), 1);
  EXPECT_EQ(b->routes(0).cluster(), "proxy_golang_org");
  EXPECT_EQ(b->cache().list_ttl().seconds(), 60);
}

TEST(ExamplesTest, Fallback) {
  absl::StatusOr<v1::Bootstrap> b = Build("examples/fallback.yaml");
  ASSERT_TRUE(b.ok()) << b.status();
  ASSERT_EQ(b->routes_size(), 2);
  EXPECT_EQ(b->routes(0).cluster(), "athens_internal");
  EXPECT_EQ(b->routes(0).match().patterns(), "*.corp.example.com,github.com/acme/*");
  ASSERT_EQ(b->routes(1).fallback().steps_size(), 2);
  EXPECT_EQ(b->routes(1).fallback().steps(0).on(), v1::FallbackStep::ANY_ERROR);
  EXPECT_EQ(b->listeners(0).address(), "[::]:8080");
}

}  // namespace
}  // namespace modgate::config
