#include "source/config/loader.h"

#include <cstdlib>
#include <fstream>
#include <string>

#include "gmock/gmock.h"
#include "google/protobuf/util/message_differencer.h"
#include "gtest/gtest.h"

namespace modgate::config {
namespace {

using ::testing::HasSubstr;

constexpr std::string_view kFullYaml = R"(listeners:
  - name: main
    address: 127.0.0.1:8080
  - name: v6
    address: "[::1]:8081"
admin:
  address: 127.0.0.1:9901
cache:
  dir: /var/cache/modgate
  max_bytes: 1073741824
  list_ttl: 30s
  latest_ttl: 1m30s
  negative_ttl: 250ms
  sumdb_latest_ttl: 0
  serve_stale: false
  offline: true
  hot_object_max_bytes: 65536
  hot_cache_max_bytes: 0
clusters:
  - name: internal
    endpoints:
      - url: https://athens.internal:8443/go
        weight: 3
        priority: 1
        tls:
          sni: athens.internal
          ca_file: /etc/ca.pem
    lb_policy: RING_HASH
    connect_timeout: 2s
    response_timeout: 45s
    idle_timeout: 90s
    http2: true
    max_connections_per_host: 16
  - name: public
    endpoints:
      - url: https://proxy.golang.org
routes:
  - name: private
    match:
      prefix: github.com/acme/
      kinds: [MOD, ZIP]
    cluster: internal
  - name: blocked
    match:
      exact: example.com/evil
    direct_response:
      status: 403
      body: blocked
  - name: canary
    match:
      patterns: "*.corp.example.com"
    weighted_clusters:
      clusters:
        - cluster: internal
          weight: 90
        - cluster: public
          weight: 10
  - name: rest
    fallback:
      steps:
        - cluster: internal
          on: NOT_FOUND
        - cluster: public
sumdbs:
  - name: sum.golang.org
    url: https://sum.golang.org
concurrency: 4
log_level: debug
limits:
  max_request_headers_kb: 32
  max_headers_count: 50
  request_timeout: 5s
  idle_timeout: 30s
  max_concurrent_streams: 10
  max_connections: 1000
)";

constexpr std::string_view kFullJson = R"({
  "listeners": [
    {"name": "main", "address": "127.0.0.1:8080"},
    {"name": "v6", "address": "[::1]:8081"}
  ],
  "admin": {"address": "127.0.0.1:9901"},
  "cache": {
    "dir": "/var/cache/modgate",
    "max_bytes": "1073741824",
    "list_ttl": "30s",
    "latestTtl": "90s",
    "negative_ttl": "0.250s",
    "sumdb_latest_ttl": "0s",
    "serve_stale": false,
    "offline": true,
    "hot_object_max_bytes": 65536,
    "hot_cache_max_bytes": 0
  },
  "clusters": [
    {
      "name": "internal",
      "endpoints": [{
        "url": "https://athens.internal:8443/go",
        "weight": 3,
        "priority": 1,
        "tls": {"sni": "athens.internal", "caFile": "/etc/ca.pem"}
      }],
      "lb_policy": "RING_HASH",
      "connect_timeout": "2s",
      "response_timeout": "45s",
      "idle_timeout": "90s",
      "http2": true,
      "max_connections_per_host": 16
    },
    {"name": "public", "endpoints": [{"url": "https://proxy.golang.org"}]}
  ],
  "routes": [
    {"name": "private", "match": {"prefix": "github.com/acme/", "kinds": ["MOD", "ZIP"]},
     "cluster": "internal"},
    {"name": "blocked", "match": {"exact": "example.com/evil"},
     "direct_response": {"status": 403, "body": "blocked"}},
    {"name": "canary", "match": {"patterns": "*.corp.example.com"},
     "weighted_clusters": {"clusters": [{"cluster": "internal", "weight": 90},
                                        {"cluster": "public", "weight": 10}]}},
    {"name": "rest", "fallback": {"steps": [{"cluster": "internal", "on": "NOT_FOUND"},
                                             {"cluster": "public"}]}}
  ],
  "sumdbs": [{"name": "sum.golang.org", "url": "https://sum.golang.org"}],
  "concurrency": 4,
  "log_level": "debug",
  "limits": {
    "max_request_headers_kb": 32,
    "max_headers_count": 50,
    "request_timeout": "5s",
    "idle_timeout": "30s",
    "max_concurrent_streams": 10,
    "max_connections": 1000
  }
})";

TEST(LoaderTest, LoadsFullYaml) {
  absl::StatusOr<v1::Bootstrap> b = LoadYaml(kFullYaml);
  ASSERT_TRUE(b.ok()) << b.status();
  ASSERT_EQ(b->listeners_size(), 2);
  EXPECT_EQ(b->listeners(1).address(), "[::1]:8081");
  EXPECT_EQ(b->cache().max_bytes().value(), 1073741824u);
  EXPECT_EQ(b->cache().latest_ttl().seconds(), 90);
  EXPECT_EQ(b->cache().negative_ttl().nanos(), 250000000);
  EXPECT_TRUE(b->cache().has_sumdb_latest_ttl());
  EXPECT_TRUE(b->cache().has_serve_stale());
  EXPECT_FALSE(b->cache().serve_stale().value());
  EXPECT_TRUE(b->cache().has_hot_cache_max_bytes());
  const v1::Cluster& internal = b->clusters(0);
  EXPECT_EQ(internal.lb_policy(), v1::Cluster::RING_HASH);
  EXPECT_EQ(internal.endpoints(0).weight().value(), 3u);
  EXPECT_EQ(internal.endpoints(0).tls().ca_file(), "/etc/ca.pem");
  EXPECT_EQ(internal.max_connections_per_host().value(), 16u);
  ASSERT_EQ(b->routes_size(), 4);
  EXPECT_EQ(b->routes(0).match().kinds(1), v1::RouteMatch::ZIP);
  EXPECT_EQ(b->routes(1).direct_response().status(), 403u);
  EXPECT_EQ(b->routes(2).weighted_clusters().clusters(1).weight(), 10u);
  EXPECT_EQ(b->routes(3).fallback().steps(0).on(), v1::FallbackStep::NOT_FOUND);
  EXPECT_EQ(b->limits().max_connections(), 1000u);
  EXPECT_EQ(b->log_level(), "debug");
}

TEST(LoaderTest, JsonAndYamlAgree) {
  absl::StatusOr<v1::Bootstrap> yaml = LoadYaml(kFullYaml);
  absl::StatusOr<v1::Bootstrap> json = LoadJson(kFullJson);
  ASSERT_TRUE(yaml.ok()) << yaml.status();
  ASSERT_TRUE(json.ok()) << json.status();
  EXPECT_TRUE(google::protobuf::util::MessageDifferencer::Equals(*yaml, *json))
      << yaml->DebugString() << "\n---\n"
      << json->DebugString();
}

TEST(LoaderTest, EmptyDocumentIsEmptyBootstrap) {
  absl::StatusOr<v1::Bootstrap> b = LoadYaml("");
  ASSERT_TRUE(b.ok()) << b.status();
  EXPECT_EQ(b->ByteSizeLong(), 0u);
  EXPECT_TRUE(LoadYaml("# only a comment\n").ok());
}

TEST(LoaderTest, FleetRolloutControlIsNotForFiles) {
  constexpr std::string_view kYaml = R"(routes:
  - name: all
    weighted_clusters:
      clusters:
        - {cluster: old, weight: 100}
        - {cluster: new, weight: 0}
    rollout:
      fleet: {canary_weight: 10, state: progressing}
)";
  absl::StatusOr<v1::Bootstrap> b = LoadText("sidecar.yaml", kYaml);
  ASSERT_FALSE(b.ok());
  EXPECT_EQ(b.status().message(),
            "sidecar.yaml: routes[0].rollout.fleet: set by the control plane that runs a "
            "fleet-wide rollout; not allowed in a config file");
}

TEST(LoaderTest, UnknownFieldNamesPathAndLine) {
  constexpr std::string_view kYaml = R"(clusters:
  - name: a
    endpoints:
      - url: https://a.example
  - name: b
    endpoints:
      - url: https://b.example
  - name: c
    endpoints:
      - url: https://c.example
      - urll: https://c2.example
)";
  absl::StatusOr<v1::Bootstrap> b = LoadYaml(kYaml);
  ASSERT_FALSE(b.ok());
  EXPECT_EQ(b.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(b.status().message(),
            "line 11: clusters[2].endpoints[1].urll: unknown field (did you mean \"url\"?)");
}

TEST(LoaderTest, UnknownTopLevelFieldWithoutSuggestion) {
  absl::StatusOr<v1::Bootstrap> b = LoadYaml("log_level: info\nfrobnicate: 3\n");
  ASSERT_FALSE(b.ok());
  EXPECT_EQ(b.status().message(), "line 2: frobnicate: unknown field");
}

TEST(LoaderTest, ReportsSeveralErrors) {
  absl::StatusOr<v1::Bootstrap> b = LoadYaml("foo: 1\nconcurrency: many\nbar: 2\n");
  ASSERT_FALSE(b.ok());
  EXPECT_EQ(b.status().message(),
            "line 1: foo: unknown field\n"
            "line 2: concurrency: expected an unsigned 32-bit integer, got \"many\"\n"
            "line 3: bar: unknown field");
}

TEST(LoaderTest, TypeMismatchesAreNamed) {
  struct Case {
    std::string yaml;
    std::string error;
  } cases[] = {
      {"listeners: 127.0.0.1:8080\n", "line 1: listeners: expected a list, got a scalar"},
      {"admin: [a, b]\n", "line 1: admin: expected a mapping (object), got a list"},
      {"log_level: {a: b}\n", "line 1: log_level: expected a string, got a mapping"},
      {"cache:\n  offline: yes\n",
       "line 2: cache.offline: expected a boolean (true or false), got \"yes\""},
      {"cache:\n  max_bytes: -1\n",
       "line 2: cache.max_bytes: expected an unsigned 64-bit integer, got \"-1\""},
      {"concurrency: 4294967296\n",
       "line 1: concurrency: expected an unsigned 32-bit integer, got \"4294967296\""},
      {"cache:\n  list_ttl: 5\n",
       "line 2: cache.list_ttl: expected a duration such as \"5s\", \"1.5s\", \"250ms\" or "
       "\"1m30s\", got \"5\""},
      {"clusters:\n  - name: x\n    lb_policy: FASTEST\n",
       "line 3: clusters[0].lb_policy: unknown value \"FASTEST\" (expected one of ROUND_ROBIN, "
       "LEAST_REQUEST, RING_HASH, MAGLEV, RANDOM)"},
      {"routes:\n  - match:\n      kinds: [MOD, TARBALL]\n",
       "line 3: routes[0].match.kinds[1]: unknown value \"TARBALL\" (expected one of "
       "KIND_UNSPECIFIED, LIST, INFO, MOD, ZIP, LATEST, SUMDB)"},
      {"listeners:\n  -\n", "line 1: listeners[0]: list elements must not be null"},
      {"- a\n- b\n", "line 1: expected a mapping (object), got a list"},
  };
  for (const Case& c : cases) {
    absl::StatusOr<v1::Bootstrap> b = LoadYaml(c.yaml);
    ASSERT_FALSE(b.ok()) << c.yaml;
    EXPECT_EQ(b.status().message(), c.error) << c.yaml;
  }
}

TEST(LoaderTest, DuplicateFieldsAndOneofConflicts) {
  absl::StatusOr<v1::Bootstrap> b = LoadYaml("log_level: info\nlogLevel: debug\n");
  ASSERT_FALSE(b.ok());
  EXPECT_EQ(b.status().message(), "line 2: log_level: duplicate field (first set on line 1)");

  b = LoadYaml("routes:\n  - cluster: a\n    fallback:\n      steps: []\n");
  ASSERT_FALSE(b.ok());
  EXPECT_EQ(b.status().message(),
            "line 3: routes[0].fallback: conflicts with \"cluster\": only one of cluster, "
            "fallback, weighted_clusters, direct_response may be set");
}

TEST(LoaderTest, SchemaDirectedScalars) {
  // A number where a string is expected is that string; enums match
  // case-insensitively; quoted numbers are fine in numeric fields.
  absl::StatusOr<v1::Bootstrap> b = LoadYaml(
      "clusters:\n  - name: 123\n    lb_policy: least_request\n    endpoints:\n"
      "      - url: https://a\n        weight: \"7\"\nconcurrency: '2'\n");
  ASSERT_TRUE(b.ok()) << b.status();
  EXPECT_EQ(b->clusters(0).name(), "123");
  EXPECT_EQ(b->clusters(0).lb_policy(), v1::Cluster::LEAST_REQUEST);
  EXPECT_EQ(b->clusters(0).endpoints(0).weight().value(), 7u);
  EXPECT_EQ(b->concurrency(), 2u);
}

TEST(LoaderTest, NullMeansUnset) {
  absl::StatusOr<v1::Bootstrap> b = LoadYaml("admin:\ncache: ~\nlisteners: null\n");
  ASSERT_TRUE(b.ok()) << b.status();
  EXPECT_FALSE(b->has_admin());
  EXPECT_FALSE(b->has_cache());
}

TEST(LoaderTest, YamlSyntaxErrorHasPosition) {
  absl::StatusOr<v1::Bootstrap> b = LoadYaml("listeners:\n  - address: [::1]:8080\n");
  ASSERT_FALSE(b.ok());
  EXPECT_THAT(b.status().message(), HasSubstr("line 2, column"));
}

TEST(LoaderTest, JsonMustBeJson) {
  absl::StatusOr<v1::Bootstrap> b = LoadJson("log_level: info\n");
  ASSERT_FALSE(b.ok());
  EXPECT_THAT(b.status().message(), HasSubstr("invalid JSON"));
}

TEST(LoaderTest, JsonErrorsHavePathAndLine) {
  absl::StatusOr<v1::Bootstrap> b = LoadJson(
      "{\n  \"clusters\": [\n    {\"name\": \"a\", \"endpoints\": [{\"ur\": \"x\"}]}\n  ]\n}\n");
  ASSERT_FALSE(b.ok());
  EXPECT_EQ(b.status().message(),
            "line 3: clusters[0].endpoints[0].ur: unknown field (did you mean \"url\"?)");
}

std::string WriteTemp(const std::string& name, std::string_view content) {
  const char* dir = std::getenv("TEST_TMPDIR");
  std::string path = std::string(dir != nullptr ? dir : "/tmp") + "/" + name;
  std::ofstream(path) << content;
  return path;
}

TEST(LoaderTest, LoadFileByExtensionAndSniffing) {
  for (const std::string name : {"full.yaml", "full.yml", "full-yaml.conf"}) {
    absl::StatusOr<v1::Bootstrap> b = LoadFile(WriteTemp(name, kFullYaml));
    ASSERT_TRUE(b.ok()) << name << ": " << b.status();
    EXPECT_EQ(b->clusters_size(), 2);
  }
  for (const std::string name : {"full.json", "full-json.conf"}) {
    absl::StatusOr<v1::Bootstrap> b = LoadFile(WriteTemp(name, kFullJson));
    ASSERT_TRUE(b.ok()) << name << ": " << b.status();
    EXPECT_EQ(b->clusters_size(), 2);
  }
  // A .json extension means JSON even when the text would be valid YAML.
  EXPECT_FALSE(LoadFile(WriteTemp("yaml-in.json", kFullYaml)).ok());
}

TEST(LoaderTest, LoadFileErrorsNameTheFile) {
  std::string path = WriteTemp("bad.yaml", "concurrency: 1\nnope: 2\n");
  absl::StatusOr<v1::Bootstrap> b = LoadFile(path);
  ASSERT_FALSE(b.ok());
  // "nope" is one letter from Bootstrap.node, hence the suggestion.
  EXPECT_EQ(b.status().message(), path + ": line 2: nope: unknown field (did you mean \"node\"?)");

  b = LoadFile("/nonexistent/modgate.yaml");
  EXPECT_EQ(b.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(b.status().message(), HasSubstr("/nonexistent/modgate.yaml"));
}

// Every field of the upstream resilience and routing API (issue 4).
constexpr std::string_view kResilienceYaml = R"(clusters:
  - name: tier
    endpoints:
      - url: http://cache-0.internal:8080
        health_check_path: /ready
      - url: http://cache-1.internal:8080
        priority: 1
    lb_policy: MAGLEV
    maglev_lb_config:
      table_size: 655373
    health_check:
      path: /sumdb/sum.golang.org/supported
      host: tier.internal
      interval: 5s
      timeout: 500ms
      initial_jitter: 1s
      interval_jitter: 100ms
      interval_jitter_percent: 10
      unhealthy_threshold: 3
      healthy_threshold: 2
      expected_statuses:
        - start: 200
          end: 300
        - start: 404
      unhealthy_interval: 30s
      healthy_edge_interval: 1s
      unhealthy_edge_interval: 2s
      no_traffic_interval: 2m
    outlier_detection:
      consecutive_5xx: 7
      interval: 20s
      base_ejection_time: 1m
      max_ejection_percent: 50
      enforcing_consecutive_5xx: 90
      consecutive_gateway_failure: 4
      enforcing_consecutive_gateway_failure: 100
      split_external_local_origin_errors: true
      consecutive_local_origin_failure: 6
      enforcing_consecutive_local_origin_failure: 80
      max_ejection_time: 10m
    circuit_breakers:
      max_connections: 100
      max_pending_requests: 0
      max_requests: 200
      max_retries: 5
      retry_budget:
        budget_percent: 12.5
        min_retry_concurrency: 4
    retry_policy:
      retry_on: [5xx, gateway-error, RESET, connect_failure, Refused-Stream]
      num_retries: 3
      per_try_timeout: 2s
      retry_back_off:
        base_interval: 10ms
        max_interval: 1s
      retry_host_predicate_previous_hosts: true
      host_selection_retry_max_attempts: 3
    common_lb_config:
      healthy_panic_threshold: 33.5
      overprovisioning_factor: 200
      consistent_hashing_lb_config:
        hash_balance_factor: 150
  - name: ring
    endpoints: [{url: "https://r"}]
    lb_policy: RING_HASH
    ring_hash_lb_config:
      minimum_ring_size: 2048
      maximum_ring_size: 4096
  - name: least
    endpoints: [{url: "https://l"}]
    lb_policy: LEAST_REQUEST
    least_request_lb_config:
      choice_count: 3
routes:
  - name: canary
    match:
      prefix: github.com/
      headers:
        - name: x-canary
          exact_match: "yes"
        - name: x-debug
          present_match: false
        - name: user-agent
          exact_match: curl
          invert_match: true
        - name: x-present
    timeout: 1m
    hash_policy:
      - header:
          header_name: x-client
        terminal: true
      - connection_properties:
          source_ip: true
      - module_path: {}
    weighted_clusters:
      clusters:
        - cluster: ring
          weight: 1
        - cluster: least
          weight: 9
      runtime_key_prefix: routes.canary
  - name: rest
    timeout: 0s
    cluster: tier
)";

constexpr std::string_view kResilienceJson = R"({
  "clusters": [
    {
      "name": "tier",
      "endpoints": [
        {"url": "http://cache-0.internal:8080", "healthCheckPath": "/ready"},
        {"url": "http://cache-1.internal:8080", "priority": 1}
      ],
      "lb_policy": "MAGLEV",
      "maglev_lb_config": {"table_size": "655373"},
      "health_check": {
        "path": "/sumdb/sum.golang.org/supported",
        "host": "tier.internal",
        "interval": "5s",
        "timeout": "0.5s",
        "initial_jitter": "1s",
        "interval_jitter": "0.1s",
        "interval_jitter_percent": 10,
        "unhealthy_threshold": 3,
        "healthy_threshold": 2,
        "expected_statuses": [{"start": 200, "end": 300}, {"start": 404}],
        "unhealthy_interval": "30s",
        "healthy_edge_interval": "1s",
        "unhealthy_edge_interval": "2s",
        "no_traffic_interval": "120s"
      },
      "outlier_detection": {
        "consecutive_5xx": 7,
        "interval": "20s",
        "base_ejection_time": "60s",
        "max_ejection_percent": 50,
        "enforcing_consecutive_5xx": 90,
        "consecutive_gateway_failure": 4,
        "enforcing_consecutive_gateway_failure": 100,
        "split_external_local_origin_errors": true,
        "consecutive_local_origin_failure": 6,
        "enforcing_consecutive_local_origin_failure": 80,
        "max_ejection_time": "600s"
      },
      "circuit_breakers": {
        "max_connections": 100,
        "max_pending_requests": 0,
        "max_requests": 200,
        "max_retries": 5,
        "retry_budget": {"budget_percent": 12.5, "min_retry_concurrency": 4}
      },
      "retry_policy": {
        "retry_on": ["FIVE_XX", "GATEWAY_ERROR", "RESET", "CONNECT_FAILURE", "refused-stream"],
        "num_retries": 3,
        "per_try_timeout": "2s",
        "retry_back_off": {"base_interval": "0.010s", "max_interval": "1s"},
        "retry_host_predicate_previous_hosts": true,
        "host_selection_retry_max_attempts": 3
      },
      "common_lb_config": {
        "healthy_panic_threshold": 33.5,
        "overprovisioning_factor": 200,
        "consistent_hashing_lb_config": {"hash_balance_factor": 150}
      }
    },
    {"name": "ring", "endpoints": [{"url": "https://r"}], "lb_policy": "RING_HASH",
     "ring_hash_lb_config": {"minimum_ring_size": 2048, "maximum_ring_size": "4096"}},
    {"name": "least", "endpoints": [{"url": "https://l"}], "lb_policy": "LEAST_REQUEST",
     "leastRequestLbConfig": {"choiceCount": 3}}
  ],
  "routes": [
    {
      "name": "canary",
      "match": {
        "prefix": "github.com/",
        "headers": [
          {"name": "x-canary", "exact_match": "yes"},
          {"name": "x-debug", "present_match": false},
          {"name": "user-agent", "exact_match": "curl", "invert_match": true},
          {"name": "x-present"}
        ]
      },
      "timeout": "60s",
      "hash_policy": [
        {"header": {"header_name": "x-client"}, "terminal": true},
        {"connection_properties": {"source_ip": true}},
        {"module_path": {}}
      ],
      "weighted_clusters": {
        "clusters": [{"cluster": "ring", "weight": 1}, {"cluster": "least", "weight": 9}],
        "runtime_key_prefix": "routes.canary"
      }
    },
    {"name": "rest", "timeout": "0s", "cluster": "tier"}
  ]
})";

TEST(LoaderTest, LoadsResilienceFields) {
  absl::StatusOr<v1::Bootstrap> b = LoadYaml(kResilienceYaml);
  ASSERT_TRUE(b.ok()) << b.status();
  const v1::Cluster& tier = b->clusters(0);
  EXPECT_EQ(tier.endpoints(0).health_check_path(), "/ready");
  EXPECT_EQ(tier.maglev_lb_config().table_size().value(), 655373u);

  const v1::HealthCheck& hc = tier.health_check();
  EXPECT_EQ(hc.path(), "/sumdb/sum.golang.org/supported");
  EXPECT_EQ(hc.host(), "tier.internal");
  EXPECT_EQ(hc.interval().seconds(), 5);
  EXPECT_EQ(hc.timeout().nanos(), 500000000);
  EXPECT_EQ(hc.initial_jitter().seconds(), 1);
  EXPECT_EQ(hc.interval_jitter().nanos(), 100000000);
  EXPECT_EQ(hc.interval_jitter_percent(), 10u);
  EXPECT_EQ(hc.unhealthy_threshold().value(), 3u);
  EXPECT_EQ(hc.healthy_threshold().value(), 2u);
  ASSERT_EQ(hc.expected_statuses_size(), 2);
  EXPECT_EQ(hc.expected_statuses(0).end(), 300u);
  EXPECT_EQ(hc.expected_statuses(1).start(), 404u);
  EXPECT_EQ(hc.expected_statuses(1).end(), 0u);
  EXPECT_EQ(hc.unhealthy_interval().seconds(), 30);
  EXPECT_EQ(hc.healthy_edge_interval().seconds(), 1);
  EXPECT_EQ(hc.unhealthy_edge_interval().seconds(), 2);
  EXPECT_EQ(hc.no_traffic_interval().seconds(), 120);

  const v1::OutlierDetection& od = tier.outlier_detection();
  EXPECT_EQ(od.consecutive_5xx().value(), 7u);
  EXPECT_EQ(od.interval().seconds(), 20);
  EXPECT_EQ(od.base_ejection_time().seconds(), 60);
  EXPECT_EQ(od.max_ejection_percent().value(), 50u);
  EXPECT_EQ(od.enforcing_consecutive_5xx().value(), 90u);
  EXPECT_EQ(od.consecutive_gateway_failure().value(), 4u);
  EXPECT_EQ(od.enforcing_consecutive_gateway_failure().value(), 100u);
  EXPECT_TRUE(od.split_external_local_origin_errors());
  EXPECT_EQ(od.consecutive_local_origin_failure().value(), 6u);
  EXPECT_EQ(od.enforcing_consecutive_local_origin_failure().value(), 80u);
  EXPECT_EQ(od.max_ejection_time().seconds(), 600);

  const v1::CircuitBreakers& cb = tier.circuit_breakers();
  EXPECT_EQ(cb.max_connections().value(), 100u);
  EXPECT_TRUE(cb.has_max_pending_requests());
  EXPECT_EQ(cb.max_pending_requests().value(), 0u);
  EXPECT_EQ(cb.max_requests().value(), 200u);
  EXPECT_EQ(cb.max_retries().value(), 5u);
  EXPECT_DOUBLE_EQ(cb.retry_budget().budget_percent().value(), 12.5);
  EXPECT_EQ(cb.retry_budget().min_retry_concurrency().value(), 4u);

  const v1::RetryPolicy& retry = tier.retry_policy();
  ASSERT_EQ(retry.retry_on_size(), 5);
  EXPECT_EQ(retry.retry_on(0), v1::RetryPolicy::FIVE_XX);  // "5xx", by alias
  EXPECT_EQ(retry.retry_on(1), v1::RetryPolicy::GATEWAY_ERROR);
  EXPECT_EQ(retry.retry_on(2), v1::RetryPolicy::RESET);
  EXPECT_EQ(retry.retry_on(3), v1::RetryPolicy::CONNECT_FAILURE);
  EXPECT_EQ(retry.retry_on(4), v1::RetryPolicy::REFUSED_STREAM);
  EXPECT_EQ(retry.num_retries().value(), 3u);
  EXPECT_EQ(retry.per_try_timeout().seconds(), 2);
  EXPECT_EQ(retry.retry_back_off().base_interval().nanos(), 10000000);
  EXPECT_EQ(retry.retry_back_off().max_interval().seconds(), 1);
  EXPECT_TRUE(retry.retry_host_predicate_previous_hosts());
  EXPECT_EQ(retry.host_selection_retry_max_attempts().value(), 3u);

  const v1::CommonLbConfig& common = tier.common_lb_config();
  EXPECT_DOUBLE_EQ(common.healthy_panic_threshold().value(), 33.5);
  EXPECT_EQ(common.overprovisioning_factor().value(), 200u);
  EXPECT_EQ(common.consistent_hashing_lb_config().hash_balance_factor().value(), 150u);

  EXPECT_EQ(b->clusters(1).ring_hash_lb_config().minimum_ring_size().value(), 2048u);
  EXPECT_EQ(b->clusters(1).ring_hash_lb_config().maximum_ring_size().value(), 4096u);
  EXPECT_EQ(b->clusters(2).least_request_lb_config().choice_count().value(), 3u);

  const v1::Route& canary = b->routes(0);
  ASSERT_EQ(canary.match().headers_size(), 4);
  EXPECT_EQ(canary.match().headers(0).exact_match(), "yes");
  EXPECT_EQ(canary.match().headers(1).header_match_specifier_case(),
            v1::HeaderMatcher::kPresentMatch);
  EXPECT_FALSE(canary.match().headers(1).present_match());
  EXPECT_TRUE(canary.match().headers(2).invert_match());
  EXPECT_EQ(canary.match().headers(3).header_match_specifier_case(),
            v1::HeaderMatcher::HEADER_MATCH_SPECIFIER_NOT_SET);
  EXPECT_EQ(canary.timeout().seconds(), 60);
  ASSERT_EQ(canary.hash_policy_size(), 3);
  EXPECT_EQ(canary.hash_policy(0).header().header_name(), "x-client");
  EXPECT_TRUE(canary.hash_policy(0).terminal());
  EXPECT_TRUE(canary.hash_policy(1).connection_properties().source_ip());
  EXPECT_TRUE(canary.hash_policy(2).has_module_path());
  EXPECT_EQ(canary.weighted_clusters().runtime_key_prefix(), "routes.canary");
  EXPECT_TRUE(b->routes(1).has_timeout());
  EXPECT_EQ(b->routes(1).timeout().seconds(), 0);
}

TEST(LoaderTest, ResilienceJsonAndYamlAgree) {
  absl::StatusOr<v1::Bootstrap> yaml = LoadYaml(kResilienceYaml);
  absl::StatusOr<v1::Bootstrap> json = LoadJson(kResilienceJson);
  ASSERT_TRUE(yaml.ok()) << yaml.status();
  ASSERT_TRUE(json.ok()) << json.status();
  EXPECT_TRUE(google::protobuf::util::MessageDifferencer::Equals(*yaml, *json))
      << yaml->DebugString() << "\n---\n"
      << json->DebugString();
}

TEST(LoaderTest, EnumSpellings) {
  // Envoy's retry_on strings, by alias or '-' for '_'; case-insensitive.
  absl::StatusOr<v1::Bootstrap> b = LoadJson(
      R"({"clusters": [{"name": "a", "retry_policy": {"retry_on": ["5XX", "Gateway-Error"]}}]})");
  ASSERT_TRUE(b.ok()) << b.status();
  EXPECT_EQ(b->clusters(0).retry_policy().retry_on(0), v1::RetryPolicy::FIVE_XX);
  EXPECT_EQ(b->clusters(0).retry_policy().retry_on(1), v1::RetryPolicy::GATEWAY_ERROR);
  // Other enums get the '-' spelling too.
  b = LoadYaml("clusters:\n  - name: a\n    lb_policy: ring-hash\n");
  ASSERT_TRUE(b.ok()) << b.status();
  EXPECT_EQ(b->clusters(0).lb_policy(), v1::Cluster::RING_HASH);
}

TEST(LoaderTest, ResilienceErrorsNamePathAndLine) {
  struct Case {
    std::string yaml;
    std::string error;
  } cases[] = {
      {"clusters:\n  - name: a\n    retry_policy:\n      retry_on: [5xx, retriable-4xx]\n",
       "line 4: clusters[0].retry_policy.retry_on[1]: unknown value \"retriable-4xx\" (expected "
       "one of RETRY_ON_UNSPECIFIED, FIVE_XX, GATEWAY_ERROR, RESET, CONNECT_FAILURE, "
       "REFUSED_STREAM)"},
      {"clusters:\n  - name: a\n    health_check:\n      path: /\n      intervall: 5s\n",
       "line 5: clusters[0].health_check.intervall: unknown field (did you mean \"interval\"?)"},
      {"clusters:\n  - name: a\n    outlier_detection:\n      consecutive_5xx: -1\n",
       "line 4: clusters[0].outlier_detection.consecutive_5xx: expected an unsigned 32-bit "
       "integer, got \"-1\""},
      {"clusters:\n  - name: a\n    circuit_breakers:\n      retry_budget:\n"
       "        budget_percent: lots\n",
       "line 5: clusters[0].circuit_breakers.retry_budget.budget_percent: expected a number, got "
       "\"lots\""},
      {"clusters:\n  - name: a\n    ring_hash_lb_config: {}\n    maglev_lb_config: {}\n",
       "line 4: clusters[0].maglev_lb_config: conflicts with \"ring_hash_lb_config\": only one of "
       "ring_hash_lb_config, maglev_lb_config, least_request_lb_config may be set"},
      {"routes:\n  - match:\n      headers:\n        - name: x\n          exact_match: a\n"
       "          present_match: true\n",
       "line 6: routes[0].match.headers[0].present_match: conflicts with \"exact_match\": only "
       "one of exact_match, present_match may be set"},
      {"routes:\n  - timeout: soon\n",
       "line 2: routes[0].timeout: expected a duration such as \"5s\", \"1.5s\", \"250ms\" or "
       "\"1m30s\", got \"soon\""},
      {"routes:\n  - hash_policy:\n      - header: {header_name: a}\n        module_path: {}\n",
       "line 4: routes[0].hash_policy[0].module_path: conflicts with \"header\": only one of "
       "module_path, header, connection_properties may be set"},
  };
  for (const Case& c : cases) {
    absl::StatusOr<v1::Bootstrap> b = LoadYaml(c.yaml);
    ASSERT_FALSE(b.ok()) << c.yaml;
    EXPECT_EQ(b.status().message(), c.error) << c.yaml;
  }
}

}  // namespace
}  // namespace modgate::config
