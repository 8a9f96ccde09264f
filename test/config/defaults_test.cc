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
  EXPECT_EQ(cache.hot_object_max_bytes().value(), 1u << 20);
  EXPECT_EQ(cache.hot_cache_max_bytes().value(), 256u << 20);

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
  EXPECT_EQ(b.limits().max_concurrent_streams().value(), 100u);
  EXPECT_EQ(b.limits().max_connections(), 0u);

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

}  // namespace
}  // namespace modgate::config
