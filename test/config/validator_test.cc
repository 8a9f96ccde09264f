#include "source/config/validator.h"

#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "source/config/defaults.h"
#include "source/config/loader.h"

namespace modgate::config {
namespace {

using ::testing::HasSubstr;

// A valid config; each test breaks one thing.
constexpr std::string_view kBase = R"(listeners:
  - name: main
    address: 127.0.0.1:8080
cache:
  dir: /tmp/modgate-cache
clusters:
  - name: a
    endpoints:
      - url: https://a.example
  - name: b
    endpoints:
      - url: http://b.example:3000/go
routes:
  - name: r
    match:
      prefix: example.com/
    cluster: a
  - name: rest
    cluster: b
)";

v1::Bootstrap Base() {
  absl::StatusOr<v1::Bootstrap> b = LoadYaml(kBase);
  EXPECT_TRUE(b.ok()) << b.status();
  ApplyDefaults(*b);
  return *b;
}

// The validation message for Base() modified by `mutate`.
template <typename F>
std::string ErrorsAfter(F mutate) {
  v1::Bootstrap b = Base();
  mutate(b);
  absl::Status status = Validate(b);
  if (!status.ok()) {
    EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  }
  return std::string(status.message());
}

TEST(ValidatorTest, BaseIsValid) {
  EXPECT_EQ(ErrorsAfter([](v1::Bootstrap&) {}), "");
}

TEST(ValidatorTest, Listeners) {
  EXPECT_EQ(ErrorsAfter([](v1::Bootstrap& b) { b.clear_listeners(); }),
            "listeners: at least one listener is required");
  EXPECT_EQ(ErrorsAfter([](v1::Bootstrap& b) { b.mutable_listeners(0)->set_address("localhost"); }),
            "listeners[0].address: invalid address \"localhost\": expected host:port");
  EXPECT_EQ(
      ErrorsAfter([](v1::Bootstrap& b) { b.mutable_listeners(0)->set_address("::1:8080"); }),
      "listeners[0].address: invalid address \"::1:8080\": IPv6 addresses need brackets, e.g. "
      "[::1]:8080");
  EXPECT_EQ(
      ErrorsAfter([](v1::Bootstrap& b) { b.mutable_listeners(0)->set_address("h:0"); }),
      "listeners[0].address: invalid address \"h:0\": invalid port \"0\" (expected 1..65535)");
  EXPECT_EQ(
      ErrorsAfter([](v1::Bootstrap& b) { b.mutable_listeners(0)->set_address("1.2.3.256:80"); }),
      "listeners[0].address: invalid address \"1.2.3.256:80\": bad host \"1.2.3.256\"");
  EXPECT_EQ(ErrorsAfter([](v1::Bootstrap& b) { *b.add_listeners() = b.listeners(0); }),
            "listeners[1].name: duplicate name \"main\" (also listeners[0])\n"
            "listeners[1].address: address 127.0.0.1:8080 is already used by listeners[0]");
  EXPECT_EQ(ErrorsAfter([](v1::Bootstrap& b) { b.mutable_listeners(0)->set_name("Main"); }),
            "listeners[0].name: invalid name \"Main\" (allowed: a-z 0-9 _ . -)");
  EXPECT_EQ(ErrorsAfter(
                [](v1::Bootstrap& b) { b.mutable_admin()->set_address(b.listeners(0).address()); }),
            "admin.address: address 127.0.0.1:8080 is already used by listeners[0]");
}

TEST(ValidatorTest, AcceptsAddressForms) {
  for (const char* address : {"[::1]:8080", "[::]:1", "0.0.0.0:65535", "proxy.local:8080",
                              "my_service:80", "localhost:8080"}) {
    EXPECT_EQ(ErrorsAfter([&](v1::Bootstrap& b) { b.mutable_listeners(0)->set_address(address); }),
              "")
        << address;
  }
}

TEST(ValidatorTest, Clusters) {
  EXPECT_EQ(ErrorsAfter([](v1::Bootstrap& b) { b.mutable_clusters(1)->set_name("a"); }),
            "clusters[1].name: duplicate name \"a\" (also clusters[0])\n"
            "routes[1].cluster: unknown cluster \"b\"");
  EXPECT_EQ(ErrorsAfter([](v1::Bootstrap& b) { b.mutable_clusters(0)->clear_endpoints(); }),
            "clusters[0].endpoints: at least one endpoint is required");
  EXPECT_EQ(ErrorsAfter([](v1::Bootstrap& b) {
              b.mutable_clusters(0)->set_lb_policy(static_cast<v1::Cluster::LbPolicy>(42));
            }),
            "clusters[0].lb_policy: invalid value 42");
  EXPECT_EQ(ErrorsAfter([](v1::Bootstrap& b) {
              b.mutable_clusters(0)->mutable_connect_timeout()->set_seconds(0);
            }),
            "clusters[0].connect_timeout: must be positive");
  EXPECT_EQ(ErrorsAfter([](v1::Bootstrap& b) {
              b.mutable_clusters(1)->mutable_idle_timeout()->set_seconds(-1);
            }),
            "clusters[1].idle_timeout: must be positive");
  EXPECT_EQ(ErrorsAfter([](v1::Bootstrap& b) {
              b.mutable_clusters(0)->mutable_max_connections_per_host()->set_value(0);
            }),
            "clusters[0].max_connections_per_host: must be 1..65535");
}

TEST(ValidatorTest, Endpoints) {
  auto url_error = [](const std::string& url) {
    return ErrorsAfter(
        [&](v1::Bootstrap& b) { b.mutable_clusters(1)->mutable_endpoints(0)->set_url(url); });
  };
  EXPECT_EQ(url_error("ftp://x"),
            "clusters[1].endpoints[0].url: invalid URL \"ftp://x\": unsupported scheme \"ftp\" "
            "(expected http or https)");
  EXPECT_EQ(url_error("proxy.golang.org"),
            "clusters[1].endpoints[0].url: invalid URL \"proxy.golang.org\": expected an absolute "
            "http:// or https:// URL");
  EXPECT_EQ(url_error("https://"),
            "clusters[1].endpoints[0].url: invalid URL \"https://\": missing host");
  EXPECT_EQ(url_error("https://u:p@host"),
            "clusters[1].endpoints[0].url: invalid URL \"https://u:p@host\": userinfo "
            "(user:password@) is not allowed");
  EXPECT_THAT(url_error("https://host/?x=1"), HasSubstr("a query (?...) is not allowed"));
  EXPECT_THAT(url_error("https://host/#x"), HasSubstr("a fragment (#...) is not allowed"));
  EXPECT_THAT(url_error("https://host:99999"), HasSubstr("invalid port \"99999\""));
  EXPECT_EQ(url_error(""), "clusters[1].endpoints[0].url: required");

  EXPECT_EQ(ErrorsAfter([](v1::Bootstrap& b) {
              b.mutable_clusters(0)->mutable_endpoints(0)->mutable_weight()->set_value(129);
            }),
            "clusters[0].endpoints[0].weight: must be 1..128");
  EXPECT_EQ(ErrorsAfter([](v1::Bootstrap& b) {
              b.mutable_clusters(0)->mutable_endpoints(0)->mutable_weight()->set_value(0);
            }),
            "clusters[0].endpoints[0].weight: must be 1..128");
  EXPECT_EQ(ErrorsAfter([](v1::Bootstrap& b) {
              b.mutable_clusters(0)->mutable_endpoints(0)->set_priority(128);
            }),
            "clusters[0].endpoints[0].priority: must be 0..127");
  EXPECT_EQ(ErrorsAfter([](v1::Bootstrap& b) {
              b.mutable_clusters(1)->mutable_endpoints(0)->mutable_tls()->set_sni("b");
            }),
            "clusters[1].endpoints[0].tls: only allowed for https:// URLs");
  EXPECT_EQ(ErrorsAfter([](v1::Bootstrap& b) {
              auto* tls = b.mutable_clusters(0)->mutable_endpoints(0)->mutable_tls();
              tls->set_ca_file("/ca.pem");
              tls->set_insecure_skip_verify(true);
            }),
            "clusters[0].endpoints[0].tls: ca_file and insecure_skip_verify are mutually "
            "exclusive");
}

TEST(ValidatorTest, Routes) {
  EXPECT_EQ(ErrorsAfter([](v1::Bootstrap& b) { b.clear_routes(); }),
            "routes: at least one route is required");
  EXPECT_EQ(ErrorsAfter([](v1::Bootstrap& b) { b.mutable_routes(0)->set_cluster("zzz"); }),
            "routes[0].cluster: unknown cluster \"zzz\"");
  EXPECT_EQ(ErrorsAfter([](v1::Bootstrap& b) { b.mutable_routes(0)->clear_action(); }),
            "routes[0]: an action is required: one of cluster, fallback, weighted_clusters, "
            "direct_response");
  EXPECT_EQ(ErrorsAfter([](v1::Bootstrap& b) { b.mutable_routes(0)->clear_match(); }),
            "routes[0].match: matches every request, so routes[1] and later can never match");
  EXPECT_EQ(
      ErrorsAfter([](v1::Bootstrap& b) { b.mutable_routes(0)->mutable_match()->set_exact("x"); }),
      "routes[0].match: at most one of prefix and exact may be set");
  EXPECT_EQ(ErrorsAfter([](v1::Bootstrap& b) {
              b.mutable_routes(0)->mutable_match()->set_patterns("*.corp,github.com/[a-");
            }),
            "routes[0].match.patterns: bad pattern \"github.com/[a-\": malformed range in "
            "character class");
  EXPECT_EQ(ErrorsAfter([](v1::Bootstrap& b) {
              auto* match = b.mutable_routes(0)->mutable_match();
              match->add_kinds(v1::RouteMatch::MOD);
              match->add_kinds(v1::RouteMatch::MOD);
              match->add_kinds(v1::RouteMatch::KIND_UNSPECIFIED);
            }),
            "routes[0].match.kinds[1]: duplicate kind MOD\n"
            "routes[0].match.kinds[2]: must be one of LIST, INFO, MOD, ZIP, LATEST, SUMDB");
  EXPECT_EQ(ErrorsAfter([](v1::Bootstrap& b) {
              b.mutable_routes(1)->mutable_direct_response()->set_status(99);
            }),
            "routes[1].direct_response.status: must be 200..599");
}

TEST(ValidatorTest, FallbackChains) {
  auto with_steps = [](std::vector<std::pair<std::string, v1::FallbackStep::On>> steps) {
    return ErrorsAfter([&](v1::Bootstrap& b) {
      auto* fallback = b.mutable_routes(1)->mutable_fallback();
      for (auto& [cluster, on] : steps) {
        auto* step = fallback->add_steps();
        step->set_cluster(cluster);
        step->set_on(on);
      }
    });
  };
  EXPECT_EQ(
      with_steps({{"a", v1::FallbackStep::NOT_FOUND}, {"b", v1::FallbackStep::ON_UNSPECIFIED}}),
      "");
  EXPECT_EQ(with_steps({}), "routes[1].fallback.steps: at least one step is required");
  EXPECT_EQ(with_steps(
                {{"a", v1::FallbackStep::ON_UNSPECIFIED}, {"b", v1::FallbackStep::ON_UNSPECIFIED}}),
            "routes[1].fallback.steps[0].on: required on all but the last step: NOT_FOUND or "
            "ANY_ERROR");
  EXPECT_EQ(with_steps({{"a", v1::FallbackStep::ANY_ERROR}, {"c", v1::FallbackStep::ANY_ERROR}}),
            "routes[1].fallback.steps[1].cluster: unknown cluster \"c\"\n"
            "routes[1].fallback.steps[1].on: must be unset on the last step (there is no next "
            "step)");
}

TEST(ValidatorTest, WeightedClusters) {
  auto with_weights = [](std::vector<std::pair<std::string, uint32_t>> weights) {
    return ErrorsAfter([&](v1::Bootstrap& b) {
      auto* weighted = b.mutable_routes(1)->mutable_weighted_clusters();
      for (auto& [cluster, weight] : weights) {
        auto* entry = weighted->add_clusters();
        entry->set_cluster(cluster);
        entry->set_weight(weight);
      }
    });
  };
  EXPECT_EQ(with_weights({{"a", 0}, {"b", 1}}), "");
  EXPECT_EQ(with_weights({}),
            "routes[1].weighted_clusters.clusters: at least one cluster is required");
  EXPECT_EQ(with_weights({{"a", 0}, {"b", 0}}),
            "routes[1].weighted_clusters.clusters: the weights must sum to more than 0");
  EXPECT_EQ(with_weights({{"a", 1}, {"a", 1}}),
            "routes[1].weighted_clusters.clusters[1].cluster: cluster \"a\" is listed twice");
  EXPECT_EQ(with_weights({{"nope", 1}}),
            "routes[1].weighted_clusters.clusters[0].cluster: unknown cluster \"nope\"");
}

TEST(ValidatorTest, CacheSumDbsAndTopLevel) {
  EXPECT_EQ(ErrorsAfter([](v1::Bootstrap& b) { b.mutable_cache()->clear_dir(); }),
            "cache.dir: required (no default: neither XDG_CACHE_HOME nor HOME is set)");
  EXPECT_EQ(
      ErrorsAfter([](v1::Bootstrap& b) { b.mutable_cache()->mutable_list_ttl()->set_seconds(-5); }),
      "cache.list_ttl: must not be negative");
  EXPECT_EQ(ErrorsAfter([](v1::Bootstrap& b) {
              b.mutable_cache()->mutable_hot_object_max_bytes()->set_value(1000);
              b.mutable_cache()->mutable_hot_cache_max_bytes()->set_value(10);
            }),
            "cache.hot_object_max_bytes: must not exceed cache.hot_cache_max_bytes");
  EXPECT_EQ(ErrorsAfter([](v1::Bootstrap& b) {
              b.add_sumdbs()->set_name("sum.golang.org");
              b.add_sumdbs()->set_name("sum.golang.org");
              auto* bad = b.add_sumdbs();
              bad->set_name("https://sum.golang.org");
              bad->set_url("sum.golang.org");
            }),
            "sumdbs[1].name: duplicate name \"sum.golang.org\"\n"
            "sumdbs[2].name: invalid name \"https://sum.golang.org\" (expected a hostname such as "
            "sum.golang.org)\n"
            "sumdbs[2].url: invalid URL \"sum.golang.org\": expected an absolute http:// or "
            "https:// URL");
  EXPECT_EQ(ErrorsAfter([](v1::Bootstrap& b) { b.set_log_level("verbose"); }),
            "log_level: invalid level \"verbose\" (expected trace, debug, info, warn, error or "
            "off)");
  EXPECT_EQ(ErrorsAfter([](v1::Bootstrap& b) { b.set_concurrency(5000); }),
            "concurrency: must be 0..1024 (0 = one per core)");
  EXPECT_EQ(ErrorsAfter([](v1::Bootstrap& b) {
              b.mutable_limits()->mutable_max_request_headers_kb()->set_value(0);
              b.mutable_limits()->mutable_request_timeout()->set_seconds(0);
            }),
            "limits.max_request_headers_kb: must be 1..8192\n"
            "limits.request_timeout: must be positive");
}

TEST(ValidatorTest, ReportsOnlyTheFirstFew) {
  // Base's catch-all routes[1] makes the added routes unreachable (1 error),
  // and each names a missing cluster (15 errors).
  std::string errors = ErrorsAfter([](v1::Bootstrap& b) {
    for (int i = 0; i < 15; ++i) {
      v1::Route* route = b.add_routes();
      route->mutable_match()->set_prefix("x/");
      route->set_cluster("missing");
    }
  });
  EXPECT_THAT(errors, HasSubstr("\n(and 6 more errors)"));
  EXPECT_EQ(std::count(errors.begin(), errors.end(), '\n'), 10);
}

TEST(ValidatorTest, UndefaultedConfigNamesMissingFields) {
  absl::StatusOr<v1::Bootstrap> b = LoadYaml(kBase);
  ASSERT_TRUE(b.ok());
  absl::Status status = Validate(*b);
  EXPECT_THAT(status.message(), HasSubstr("admin.address: required"));
  EXPECT_THAT(status.message(), HasSubstr("clusters[0].connect_timeout: required"));
}

}  // namespace
}  // namespace modgate::config
