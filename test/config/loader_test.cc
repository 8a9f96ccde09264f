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
  EXPECT_EQ(b.status().message(), path + ": line 2: nope: unknown field");

  b = LoadFile("/nonexistent/modgate.yaml");
  EXPECT_EQ(b.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(b.status().message(), HasSubstr("/nonexistent/modgate.yaml"));
}

}  // namespace
}  // namespace modgate::config
