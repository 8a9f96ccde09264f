#include "source/config/defaults.h"

#include <cstdlib>

#include "google/protobuf/util/message_differencer.h"
#include "gtest/gtest.h"
#include "source/config/loader.h"

namespace modgate::config {
namespace {

TEST(DefaultCacheDirTest, PrefersAbsoluteXdgCacheHome) {
  EXPECT_EQ(DefaultCacheDir("/xdg", "/home/u"), "/xdg/modgate");
  EXPECT_EQ(DefaultCacheDir("relative", "/home/u"), "/home/u/.cache/modgate");
  EXPECT_EQ(DefaultCacheDir(nullptr, "/home/u"), "/home/u/.cache/modgate");
  EXPECT_EQ(DefaultCacheDir("", ""), "");
  EXPECT_EQ(DefaultCacheDir(nullptr, nullptr), "");
}

TEST(DefaultNodeIdTest, PodNameElseHostName) {
  EXPECT_EQ(DefaultNodeId("ci-job-7f9c", "node-3"), "ci-job-7f9c");
  EXPECT_EQ(DefaultNodeId("", "node-3"), "node-3");
  EXPECT_EQ(DefaultNodeId(nullptr, "node-3"), "node-3");
  EXPECT_EQ(DefaultNodeId(nullptr, nullptr), "");
}

TEST(ApplyDefaultsTest, NodeAndControlPlane) {
  setenv("POD_NAME", "build-pod-1", 1);
  v1::Bootstrap b;
  ApplyDefaults(b);
  EXPECT_EQ(b.node().id(), "build-pod-1");
  EXPECT_FALSE(b.has_control_plane());
  b.mutable_node()->set_id("explicit");
  b.mutable_control_plane()->add_urls("http://127.0.0.1:18000");
  ApplyDefaults(b);
  EXPECT_EQ(b.node().id(), "explicit");
  EXPECT_EQ(b.control_plane().connect_timeout().seconds(), 5);
  EXPECT_EQ(b.control_plane().retry_base_interval().nanos(), 500000000);
  EXPECT_EQ(b.control_plane().retry_max_interval().seconds(), 30);
  EXPECT_EQ(b.control_plane().initial_fetch_timeout().seconds(), 15);
  EXPECT_EQ(b.control_plane().api_type(), v1::ControlPlane::DELTA_GRPC);
  unsetenv("POD_NAME");
}

TEST(ApplyDefaultsTest, FillsEverythingDocumented) {
  setenv("XDG_CACHE_HOME", "/xdg-cache", 1);
  v1::Bootstrap b;
  b.add_clusters()->set_name("only");
  b.mutable_clusters(0)->add_endpoints()->set_url("https://x");
  ApplyDefaults(b);

  ASSERT_EQ(b.listeners_size(), 1);
  EXPECT_EQ(b.listeners(0).name(), "main");
  EXPECT_EQ(b.listeners(0).address(), "127.0.0.1:8080");
  EXPECT_EQ(b.admin().address(), "127.0.0.1:9901");

  const v1::Cache& cache = b.cache();
  EXPECT_EQ(cache.dir(), "/xdg-cache/modgate");
  EXPECT_EQ(cache.max_bytes().value(), 10737418240u);
  EXPECT_EQ(cache.list_ttl().seconds(), 60);
  EXPECT_EQ(cache.latest_ttl().seconds(), 60);
  EXPECT_EQ(cache.negative_ttl().seconds(), 60);
  EXPECT_EQ(cache.sumdb_latest_ttl().seconds(), 60);
  EXPECT_TRUE(cache.serve_stale().value());
  EXPECT_FALSE(cache.offline());
  EXPECT_EQ(cache.hot_object_max_bytes().value(), 16u << 10);
  EXPECT_EQ(cache.hot_cache_max_bytes().value(), 4u << 20);

  const v1::Cluster& cluster = b.clusters(0);
  EXPECT_EQ(cluster.lb_policy(), v1::Cluster::ROUND_ROBIN);
  EXPECT_EQ(cluster.endpoints(0).weight().value(), 1u);
  EXPECT_EQ(cluster.connect_timeout().seconds(), 5);
  EXPECT_EQ(cluster.response_timeout().seconds(), 30);
  EXPECT_EQ(cluster.idle_timeout().seconds(), 60);
  EXPECT_EQ(cluster.max_connections_per_host().value(), 64u);
  EXPECT_FALSE(cluster.http2());

  // One cluster and no routes: a catch-all route to it.
  ASSERT_EQ(b.routes_size(), 1);
  EXPECT_EQ(b.routes(0).cluster(), "only");
  EXPECT_FALSE(b.routes(0).has_match());

  EXPECT_EQ(b.log_level(), "info");
  EXPECT_EQ(b.concurrency(), 0u);
  EXPECT_EQ(b.limits().max_request_headers_kb().value(), 60u);
  EXPECT_EQ(b.limits().max_headers_count().value(), 100u);
  EXPECT_EQ(b.limits().request_timeout().seconds(), 10);
  EXPECT_EQ(b.limits().idle_timeout().seconds(), 60);
  EXPECT_EQ(b.limits().drain_timeout().seconds(), 5);
  EXPECT_EQ(b.limits().max_concurrent_streams().value(), 100u);
  EXPECT_EQ(b.limits().max_connections(), 0u);
  EXPECT_EQ(b.limits().http2().max_outbound_control_frames().value(), 1000u);
  EXPECT_EQ(b.limits().http2().max_settings_entries().value(), 32u);
  EXPECT_EQ(b.limits().http2().max_continuation_frames().value(), 8u);
  EXPECT_EQ(b.limits().http2().stream_reset_burst().value(), 200u);
  EXPECT_EQ(b.limits().http2().stream_resets_per_second().value(), 33u);

  unsetenv("XDG_CACHE_HOME");
  setenv("HOME", "/home/someone", 1);
  v1::Bootstrap home;
  ApplyDefaults(home);
  EXPECT_EQ(home.cache().dir(), "/home/someone/.cache/modgate");
  // No clusters: no implicit route.
  EXPECT_EQ(home.routes_size(), 0);
}

TEST(ApplyDefaultsTest, KeepsExplicitValuesIncludingZeroes) {
  absl::StatusOr<v1::Bootstrap> b = LoadYaml(R"(listeners:
  - address: 0.0.0.0:80
  - address: 0.0.0.0:81
    name: second
cache:
  dir: /c
  max_bytes: 0
  list_ttl: 0s
  serve_stale: false
  hot_cache_max_bytes: 0
clusters:
  - name: a
    endpoints: [{url: "https://a", weight: 5}]
    connect_timeout: 1s
  - name: b
    endpoints: [{url: "https://b"}]
log_level: warn
)");
  ASSERT_TRUE(b.ok()) << b.status();
  ApplyDefaults(*b);
  EXPECT_EQ(b->listeners(0).name(), "listener0");
  EXPECT_EQ(b->listeners(1).name(), "second");
  EXPECT_EQ(b->cache().dir(), "/c");
  EXPECT_EQ(b->cache().max_bytes().value(), 0u);
  EXPECT_EQ(b->cache().list_ttl().seconds(), 0);
  EXPECT_EQ(b->cache().latest_ttl().seconds(), 60);
  EXPECT_FALSE(b->cache().serve_stale().value());
  EXPECT_EQ(b->cache().hot_cache_max_bytes().value(), 0u);
  EXPECT_EQ(b->clusters(0).endpoints(0).weight().value(), 5u);
  EXPECT_EQ(b->clusters(0).connect_timeout().seconds(), 1);
  EXPECT_EQ(b->log_level(), "warn");
  // Two clusters: no guessing which one a catch-all route should use.
  EXPECT_EQ(b->routes_size(), 0);
}

TEST(ApplyDefaultsTest, IsIdempotent) {
  v1::Bootstrap once;
  once.add_clusters()->set_name("a");
  ApplyDefaults(once);
  v1::Bootstrap twice = once;
  ApplyDefaults(twice);
  EXPECT_TRUE(google::protobuf::util::MessageDifferencer::Equals(once, twice));
}

TEST(ApplyDefaultsTest, EveryClusterGetsEnvoysLbAndCircuitBreakerDefaults) {
  v1::Bootstrap b;
  b.add_clusters()->set_name("plain");
  ApplyDefaults(b);
  const v1::Cluster& cluster = b.clusters(0);
  EXPECT_EQ(cluster.circuit_breakers().max_connections().value(), 1024u);
  EXPECT_EQ(cluster.circuit_breakers().max_pending_requests().value(), 1024u);
  EXPECT_EQ(cluster.circuit_breakers().max_requests().value(), 1024u);
  EXPECT_EQ(cluster.circuit_breakers().max_retries().value(), 3u);
  EXPECT_FALSE(cluster.circuit_breakers().has_retry_budget());
  EXPECT_DOUBLE_EQ(cluster.common_lb_config().healthy_panic_threshold().value(), 50.0);
  EXPECT_EQ(cluster.common_lb_config().overprovisioning_factor().value(), 140u);
  EXPECT_FALSE(cluster.common_lb_config().has_consistent_hashing_lb_config());
  // Nothing Envoy would not have: no health check, outlier detection,
  // retries, or settings of a policy not in use.
  EXPECT_FALSE(cluster.has_health_check());
  EXPECT_FALSE(cluster.has_outlier_detection());
  EXPECT_FALSE(cluster.has_retry_policy());
  EXPECT_EQ(cluster.lb_config_case(), v1::Cluster::LB_CONFIG_NOT_SET);
  // Routes keep timeout and hash_policy unset.
  EXPECT_FALSE(b.routes(0).has_timeout());
  EXPECT_TRUE(b.routes(0).hash_policy().empty());
}

TEST(ApplyDefaultsTest, LbConfigOfThePolicy) {
  absl::StatusOr<v1::Bootstrap> b = LoadYaml(R"(clusters:
  - {name: ring, lb_policy: RING_HASH}
  - {name: maglev, lb_policy: MAGLEV}
  - {name: least, lb_policy: LEAST_REQUEST}
  - {name: random, lb_policy: RANDOM}
  - name: partial
    lb_policy: RING_HASH
    ring_hash_lb_config: {maximum_ring_size: 4096}
  - name: mismatched
    lb_policy: MAGLEV
    least_request_lb_config: {}
)");
  ASSERT_TRUE(b.ok()) << b.status();
  ApplyDefaults(*b);
  EXPECT_EQ(b->clusters(0).ring_hash_lb_config().minimum_ring_size().value(), 1024u);
  EXPECT_EQ(b->clusters(0).ring_hash_lb_config().maximum_ring_size().value(), 8388608u);
  EXPECT_EQ(b->clusters(1).maglev_lb_config().table_size().value(), 65537u);
  EXPECT_EQ(b->clusters(2).least_request_lb_config().choice_count().value(), 2u);
  EXPECT_EQ(b->clusters(3).lb_config_case(), v1::Cluster::LB_CONFIG_NOT_SET);
  EXPECT_EQ(b->clusters(4).ring_hash_lb_config().minimum_ring_size().value(), 1024u);
  EXPECT_EQ(b->clusters(4).ring_hash_lb_config().maximum_ring_size().value(), 4096u);
  // A mismatched lb_config is left for the validator to reject, but filled.
  EXPECT_EQ(b->clusters(5).lb_config_case(), v1::Cluster::kLeastRequestLbConfig);
  EXPECT_EQ(b->clusters(5).least_request_lb_config().choice_count().value(), 2u);
}

TEST(ApplyDefaultsTest, HealthCheckFieldsWhenPresent) {
  absl::StatusOr<v1::Bootstrap> b = LoadYaml(R"(clusters:
  - name: a
    health_check: {path: /healthz, interval: 5s, timeout: 1s}
  - name: b
    health_check:
      path: /
      interval: 5s
      timeout: 1s
      unhealthy_interval: 20s
      healthy_edge_interval: 1s
      no_traffic_interval: 5m
      expected_statuses: [{start: 204}, {start: 200, end: 300}]
)");
  ASSERT_TRUE(b.ok()) << b.status();
  ApplyDefaults(*b);
  const v1::HealthCheck& a = b->clusters(0).health_check();
  ASSERT_EQ(a.expected_statuses_size(), 1);
  EXPECT_EQ(a.expected_statuses(0).start(), 200u);
  EXPECT_EQ(a.expected_statuses(0).end(), 201u);
  EXPECT_EQ(a.no_traffic_interval().seconds(), 60);
  EXPECT_EQ(a.unhealthy_interval().seconds(), 5);
  EXPECT_EQ(a.healthy_edge_interval().seconds(), 5);
  EXPECT_EQ(a.unhealthy_edge_interval().seconds(), 5);
  EXPECT_FALSE(a.has_initial_jitter());
  EXPECT_EQ(a.interval_jitter_percent(), 0u);
  // Thresholds are required, never defaulted.
  EXPECT_FALSE(a.has_unhealthy_threshold());
  EXPECT_FALSE(a.has_healthy_threshold());

  const v1::HealthCheck& hc = b->clusters(1).health_check();
  ASSERT_EQ(hc.expected_statuses_size(), 2);
  EXPECT_EQ(hc.expected_statuses(0).end(), 205u);
  EXPECT_EQ(hc.expected_statuses(1).end(), 300u);
  EXPECT_EQ(hc.no_traffic_interval().seconds(), 300);
  EXPECT_EQ(hc.unhealthy_interval().seconds(), 20);
  EXPECT_EQ(hc.healthy_edge_interval().seconds(), 1);
  // Follows unhealthy_interval, not interval.
  EXPECT_EQ(hc.unhealthy_edge_interval().seconds(), 20);
}

TEST(ApplyDefaultsTest, OutlierDetectionFieldsWhenPresent) {
  absl::StatusOr<v1::Bootstrap> b = LoadYaml(R"(clusters:
  - name: a
    outlier_detection: {}
  - name: b
    outlier_detection: {base_ejection_time: 10m, enforcing_consecutive_gateway_failure: 100}
)");
  ASSERT_TRUE(b.ok()) << b.status();
  ApplyDefaults(*b);
  const v1::OutlierDetection& od = b->clusters(0).outlier_detection();
  EXPECT_EQ(od.consecutive_5xx().value(), 5u);
  EXPECT_EQ(od.interval().seconds(), 10);
  EXPECT_EQ(od.base_ejection_time().seconds(), 30);
  EXPECT_EQ(od.max_ejection_percent().value(), 10u);
  EXPECT_EQ(od.enforcing_consecutive_5xx().value(), 100u);
  EXPECT_EQ(od.consecutive_gateway_failure().value(), 5u);
  // Envoy detects gateway failures but does not eject for them by default.
  EXPECT_TRUE(od.has_enforcing_consecutive_gateway_failure());
  EXPECT_EQ(od.enforcing_consecutive_gateway_failure().value(), 0u);
  EXPECT_FALSE(od.split_external_local_origin_errors());
  EXPECT_EQ(od.consecutive_local_origin_failure().value(), 5u);
  EXPECT_EQ(od.enforcing_consecutive_local_origin_failure().value(), 100u);
  EXPECT_EQ(od.max_ejection_time().seconds(), 300);
  // max_ejection_time defaults to base_ejection_time when that is larger.
  EXPECT_EQ(b->clusters(1).outlier_detection().max_ejection_time().seconds(), 600);
  EXPECT_EQ(b->clusters(1).outlier_detection().enforcing_consecutive_gateway_failure().value(),
            100u);
}

TEST(ApplyDefaultsTest, RetryPolicyAndBudgetWhenPresent) {
  absl::StatusOr<v1::Bootstrap> b = LoadYaml(R"(clusters:
  - name: a
    retry_policy: {retry_on: [RESET]}
    circuit_breakers: {max_requests: 10, retry_budget: {}}
  - name: b
    retry_policy:
      retry_on: [RESET]
      num_retries: 0
      retry_back_off: {base_interval: 100ms}
)");
  ASSERT_TRUE(b.ok()) << b.status();
  ApplyDefaults(*b);
  const v1::RetryPolicy& a = b->clusters(0).retry_policy();
  EXPECT_EQ(a.num_retries().value(), 1u);
  EXPECT_EQ(a.retry_back_off().base_interval().nanos(), 25000000);
  EXPECT_EQ(a.retry_back_off().max_interval().nanos(), 250000000);
  EXPECT_FALSE(a.retry_host_predicate_previous_hosts());
  EXPECT_EQ(a.host_selection_retry_max_attempts().value(), 1u);
  EXPECT_FALSE(a.has_per_try_timeout());
  const v1::CircuitBreakers& cb = b->clusters(0).circuit_breakers();
  EXPECT_EQ(cb.max_requests().value(), 10u);
  EXPECT_EQ(cb.max_connections().value(), 1024u);
  EXPECT_DOUBLE_EQ(cb.retry_budget().budget_percent().value(), 20.0);
  EXPECT_EQ(cb.retry_budget().min_retry_concurrency().value(), 3u);

  const v1::RetryPolicy& explicit_zero = b->clusters(1).retry_policy();
  EXPECT_EQ(explicit_zero.num_retries().value(), 0u);
  EXPECT_EQ(explicit_zero.retry_back_off().base_interval().nanos(), 100000000);
  EXPECT_EQ(explicit_zero.retry_back_off().max_interval().seconds(), 1);
  EXPECT_EQ(explicit_zero.retry_back_off().max_interval().nanos(), 0);
}

TEST(EffectiveRouteTimeoutTest, FifteenSecondsExceptZips) {
  v1::Route route;
  EXPECT_EQ(EffectiveRouteTimeout(route, v1::RouteMatch::MOD), absl::Seconds(15));
  EXPECT_EQ(EffectiveRouteTimeout(route, v1::RouteMatch::SUMDB), absl::Seconds(15));
  EXPECT_EQ(EffectiveRouteTimeout(route, v1::RouteMatch::ZIP), absl::InfiniteDuration());
  route.mutable_timeout()->set_seconds(90);
  EXPECT_EQ(EffectiveRouteTimeout(route, v1::RouteMatch::ZIP), absl::Seconds(90));
  EXPECT_EQ(EffectiveRouteTimeout(route, v1::RouteMatch::LIST), absl::Seconds(90));
  route.mutable_timeout()->set_seconds(0);
  EXPECT_EQ(EffectiveRouteTimeout(route, v1::RouteMatch::LIST), absl::InfiniteDuration());
  route.mutable_timeout()->set_nanos(500000000);
  EXPECT_EQ(EffectiveRouteTimeout(route, v1::RouteMatch::LIST), absl::Milliseconds(500));
}

TEST(ApplyDefaultsTest, ResilienceDefaultsAreIdempotent) {
  absl::StatusOr<v1::Bootstrap> once = LoadYaml(R"(clusters:
  - name: a
    lb_policy: MAGLEV
    health_check: {path: /, interval: 5s, timeout: 1s}
    outlier_detection: {}
    retry_policy: {retry_on: [RESET]}
    circuit_breakers: {retry_budget: {}}
)");
  ASSERT_TRUE(once.ok()) << once.status();
  ApplyDefaults(*once);
  v1::Bootstrap twice = *once;
  ApplyDefaults(twice);
  EXPECT_TRUE(google::protobuf::util::MessageDifferencer::Equals(*once, twice));
}

}  // namespace
}  // namespace modgate::config
