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

TEST(ExamplesTest, PrivateAndPublic) {
  absl::StatusOr<v1::Bootstrap> b = Build("examples/private_and_public.yaml");
  ASSERT_TRUE(b.ok()) << b.status();
  ASSERT_EQ(b->clusters_size(), 3);
  const v1::Cluster& athens = b->clusters(0);
  EXPECT_EQ(athens.name(), "athens_internal");
  EXPECT_EQ(athens.endpoints_size(), 2);
  EXPECT_EQ(athens.lb_policy(), v1::Cluster::LEAST_REQUEST);
  EXPECT_EQ(athens.health_check().path(), "/healthz");
  EXPECT_EQ(athens.retry_policy().retry_on(0), v1::RetryPolicy::CONNECT_FAILURE);
  const v1::Cluster& public_cluster = b->clusters(1);
  EXPECT_EQ(public_cluster.endpoints(0).weight().value(), 70u);
  EXPECT_EQ(public_cluster.endpoints(1).weight().value(), 30u);
  EXPECT_TRUE(public_cluster.has_outlier_detection());
  EXPECT_EQ(public_cluster.retry_policy().retry_on(0), v1::RetryPolicy::FIVE_XX);
  EXPECT_EQ(b->clusters(2).health_check().path(), "/sumdb/sum.golang.org/supported");

  ASSERT_EQ(b->routes_size(), 3);
  EXPECT_EQ(b->routes(0).match().kinds(0), v1::RouteMatch::SUMDB);
  EXPECT_EQ(b->routes(0).cluster(), "sumdb");
  // Public fallback is forbidden: the private route names the private
  // cluster alone (no fallback chain, no weighted split), and it comes
  // before the catch-all public route, so private paths never reach it.
  const v1::Route& private_route = b->routes(1);
  EXPECT_EQ(private_route.action_case(), v1::Route::kCluster);
  EXPECT_EQ(private_route.cluster(), "athens_internal");
  EXPECT_EQ(private_route.match().patterns(), "corp.example.com/*,*.corp.example.com");
  EXPECT_EQ(b->routes(2).cluster(), "public");
  EXPECT_FALSE(b->routes(2).has_match());
  for (int i = 0; i < b->routes_size(); ++i) {
    if (b->routes(i).action_case() == v1::Route::kCluster &&
        b->routes(i).cluster() == "athens_internal") {
      EXPECT_EQ(i, 1);
    }
  }
}

TEST(ExamplesTest, RingHashTier) {
  absl::StatusOr<v1::Bootstrap> b = Build("examples/ring_hash_tier.yaml");
  ASSERT_TRUE(b.ok()) << b.status();
  const v1::Cluster& tier = b->clusters(0);
  EXPECT_EQ(tier.lb_policy(), v1::Cluster::RING_HASH);
  EXPECT_EQ(tier.endpoints_size(), 3);
  EXPECT_EQ(tier.common_lb_config().consistent_hashing_lb_config().hash_balance_factor().value(),
            150u);
  EXPECT_EQ(tier.ring_hash_lb_config().minimum_ring_size().value(), 4096u);
  ASSERT_EQ(b->routes(0).hash_policy_size(), 1);
  EXPECT_TRUE(b->routes(0).hash_policy(0).has_module_path());
  EXPECT_EQ(b->routes(0).fallback().steps(0).cluster(), "cache_tier");
}

TEST(ExamplesTest, PriorityFailover) {
  absl::StatusOr<v1::Bootstrap> b = Build("examples/priority_failover.yaml");
  ASSERT_TRUE(b.ok()) << b.status();
  const v1::Cluster& upstream = b->clusters(0);
  ASSERT_EQ(upstream.endpoints_size(), 4);
  EXPECT_EQ(upstream.endpoints(0).priority(), 0u);
  EXPECT_EQ(upstream.endpoints(2).priority(), 1u);
  EXPECT_EQ(upstream.endpoints(3).priority(), 2u);
  EXPECT_EQ(upstream.endpoints(3).health_check_path(), "/sumdb/sum.golang.org/supported");
  EXPECT_DOUBLE_EQ(upstream.common_lb_config().healthy_panic_threshold().value(), 25.0);
  EXPECT_EQ(upstream.common_lb_config().overprovisioning_factor().value(), 140u);
  EXPECT_EQ(upstream.health_check().unhealthy_edge_interval().seconds(), 30);
  EXPECT_TRUE(b->routes(0).has_timeout());
  EXPECT_EQ(b->routes(0).timeout().seconds(), 0);
}

}  // namespace
}  // namespace modgate::config
