#include "source/config/validator.h"

#include <cstdint>
#include <map>
#include <string>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "source/config/error_list.h"
#include "source/config/glob_pattern.h"
#include "source/config/host_port.h"
#include "source/config/upstream_url.h"

namespace modgate::config {
namespace {

constexpr uint32_t kMaxConcurrency = 1024;
constexpr uint32_t kMaxEndpointWeight = 128;
constexpr uint32_t kMaxPriority = 127;

bool IsPositive(const google::protobuf::Duration& d) {
  return d.seconds() > 0 || (d.seconds() == 0 && d.nanos() > 0);
}

bool IsNegative(const google::protobuf::Duration& d) { return d.seconds() < 0 || d.nanos() < 0; }

class Validator {
 public:
  absl::Status Run(const v1::Bootstrap& b) {
    for (const v1::Cluster& cluster : b.clusters()) cluster_names_.insert(cluster.name());
    Listeners(b);
    if (b.admin().address().empty()) {
      Error("admin.address", "required");
    } else {
      Address("admin.address", b.admin().address(), "the admin");
    }
    Cache(b.cache());
    Clusters(b);
    Routes(b);
    SumDbs(b);
    if (b.concurrency() > kMaxConcurrency) {
      Error("concurrency", absl::StrCat("must be 0..", kMaxConcurrency, " (0 = one per core)"));
    }
    if (!IsValidLogLevel(b.log_level())) {
      Error("log_level", absl::StrCat("invalid level \"", b.log_level(),
                                      "\" (expected trace, debug, info, warn, error or off)"));
    }
    Limits(b.limits());
    return errors_.ToStatus();
  }

 private:
  void Error(const std::string& path, absl::string_view message) { errors_.Add(path, message); }

  void RequirePositive(const std::string& path, bool has, const google::protobuf::Duration& d) {
    if (!has) {
      Error(path, "required");
    } else if (!IsPositive(d)) {
      Error(path, "must be positive");
    }
  }

  void RequireNonNegative(const std::string& path, bool has, const google::protobuf::Duration& d) {
    if (!has) {
      Error(path, "required");
    } else if (IsNegative(d)) {
      Error(path, "must not be negative");
    }
  }

  void Range(const std::string& path, uint64_t value, uint64_t low, uint64_t high) {
    if (value < low || value > high) Error(path, absl::StrCat("must be ", low, "..", high));
  }

  // Checks host:port syntax and that no two sockets claim the same address.
  void Address(const std::string& path, const std::string& address, const std::string& owner) {
    absl::StatusOr<HostPort> parsed = ParseHostPort(address);
    if (!parsed.ok()) {
      Error(path, parsed.status().message());
      return;
    }
    auto [it, inserted] = addresses_.emplace(address, owner);
    if (!inserted)
      Error(path, absl::StrCat("address ", address, " is already used by ", it->second));
  }

  void Url(const std::string& path, const std::string& url) {
    absl::StatusOr<UpstreamUrl> parsed = ParseUpstreamUrl(url);
    if (!parsed.ok()) Error(path, parsed.status().message());
  }

  void ClusterRef(const std::string& path, const std::string& name) {
    if (name.empty()) {
      Error(path, "required");
    } else if (!cluster_names_.contains(name)) {
      Error(path, absl::StrCat("unknown cluster \"", name, "\""));
    }
  }

  void Listeners(const v1::Bootstrap& b) {
    if (b.listeners().empty()) Error("listeners", "at least one listener is required");
    absl::flat_hash_map<std::string, int> names;
    for (int i = 0; i < b.listeners_size(); ++i) {
      const v1::Listener& listener = b.listeners(i);
      std::string path = absl::StrCat("listeners[", i, "]");
      Name(path + ".name", listener.name(), names, i, "listeners");
      if (listener.address().empty()) {
        Error(path + ".address", "required");
      } else {
        Address(path + ".address", listener.address(), path);
      }
    }
  }

  void Name(const std::string& path, const std::string& name,
            absl::flat_hash_map<std::string, int>& seen, int index, absl::string_view kind) {
    if (name.empty()) {
      Error(path, "required");
    } else if (!IsValidResourceName(name)) {
      Error(path, absl::StrCat("invalid name \"", name, "\" (allowed: a-z 0-9 _ . -)"));
    } else if (auto [it, inserted] = seen.emplace(name, index); !inserted) {
      Error(path,
            absl::StrCat("duplicate name \"", name, "\" (also ", kind, "[", it->second, "])"));
    }
  }

  void Cache(const v1::Cache& cache) {
    if (cache.dir().empty()) {
      Error("cache.dir", "required (no default: neither XDG_CACHE_HOME nor HOME is set)");
    }
    RequireNonNegative("cache.list_ttl", cache.has_list_ttl(), cache.list_ttl());
    RequireNonNegative("cache.latest_ttl", cache.has_latest_ttl(), cache.latest_ttl());
    RequireNonNegative("cache.negative_ttl", cache.has_negative_ttl(), cache.negative_ttl());
    RequireNonNegative("cache.sumdb_latest_ttl", cache.has_sumdb_latest_ttl(),
                       cache.sumdb_latest_ttl());
    if (cache.has_hot_cache_max_bytes() && cache.has_hot_object_max_bytes() &&
        cache.hot_cache_max_bytes().value() > 0 &&
        cache.hot_object_max_bytes().value() > cache.hot_cache_max_bytes().value()) {
      Error("cache.hot_object_max_bytes", "must not exceed cache.hot_cache_max_bytes");
    }
  }

  void Clusters(const v1::Bootstrap& b) {
    absl::flat_hash_map<std::string, int> names;
    for (int i = 0; i < b.clusters_size(); ++i) {
      const v1::Cluster& cluster = b.clusters(i);
      std::string path = absl::StrCat("clusters[", i, "]");
      Name(path + ".name", cluster.name(), names, i, "clusters");
      if (cluster.endpoints().empty())
        Error(path + ".endpoints", "at least one endpoint is required");
      for (int j = 0; j < cluster.endpoints_size(); ++j) {
        Endpoint(absl::StrCat(path, ".endpoints[", j, "]"), cluster.endpoints(j));
      }
      if (!v1::Cluster::LbPolicy_IsValid(cluster.lb_policy())) {
        Error(path + ".lb_policy", absl::StrCat("invalid value ", cluster.lb_policy()));
      }
      RequirePositive(path + ".connect_timeout", cluster.has_connect_timeout(),
                      cluster.connect_timeout());
      RequirePositive(path + ".response_timeout", cluster.has_response_timeout(),
                      cluster.response_timeout());
      RequirePositive(path + ".idle_timeout", cluster.has_idle_timeout(), cluster.idle_timeout());
      if (cluster.has_max_connections_per_host()) {
        Range(path + ".max_connections_per_host", cluster.max_connections_per_host().value(), 1,
              65535);
      }
    }
  }

  void Endpoint(const std::string& path, const v1::Endpoint& endpoint) {
    if (endpoint.url().empty()) {
      Error(path + ".url", "required");
    } else {
      absl::StatusOr<UpstreamUrl> url = ParseUpstreamUrl(endpoint.url());
      if (!url.ok()) {
        Error(path + ".url", url.status().message());
      } else if (endpoint.has_tls() && url->scheme != "https") {
        Error(path + ".tls", "only allowed for https:// URLs");
      }
    }
    if (endpoint.has_weight())
      Range(path + ".weight", endpoint.weight().value(), 1, kMaxEndpointWeight);
    if (endpoint.priority() > kMaxPriority)
      Range(path + ".priority", endpoint.priority(), 0, kMaxPriority);
    if (endpoint.tls().insecure_skip_verify() && !endpoint.tls().ca_file().empty()) {
      Error(path + ".tls", "ca_file and insecure_skip_verify are mutually exclusive");
    }
    if (!endpoint.tls().sni().empty() && !IsValidHost(endpoint.tls().sni())) {
      Error(path + ".tls.sni", absl::StrCat("invalid server name \"", endpoint.tls().sni(), "\""));
    }
  }

  void Routes(const v1::Bootstrap& b) {
    if (b.routes().empty()) Error("routes", "at least one route is required");
    for (int i = 0; i < b.routes_size(); ++i) {
      const v1::Route& route = b.routes(i);
      std::string path = absl::StrCat("routes[", i, "]");
      bool catch_all = Match(path + ".match", route.match());
      if (catch_all && i + 1 < b.routes_size()) {
        Error(path + ".match", absl::StrCat("matches every request, so routes[", i + 1,
                                            "] and later can never match"));
      }
      switch (route.action_case()) {
        case v1::Route::kCluster:
          ClusterRef(path + ".cluster", route.cluster());
          break;
        case v1::Route::kFallback:
          Fallback(path + ".fallback", route.fallback());
          break;
        case v1::Route::kWeightedClusters:
          Weighted(path + ".weighted_clusters", route.weighted_clusters());
          break;
        case v1::Route::kDirectResponse:
          Range(path + ".direct_response.status", route.direct_response().status(), 200, 599);
          break;
        case v1::Route::ACTION_NOT_SET:
          Error(path,
                "an action is required: one of cluster, fallback, weighted_clusters, "
                "direct_response");
          break;
      }
    }
  }

  // Returns whether the match matches every request.
  bool Match(const std::string& path, const v1::RouteMatch& match) {
    if (!match.prefix().empty() && !match.exact().empty()) {
      Error(path, "at most one of prefix and exact may be set");
    }
    if (absl::Status s = ValidateGlobList(match.patterns()); !s.ok()) {
      Error(path + ".patterns", s.message());
    }
    absl::flat_hash_set<int> kinds;
    for (int k = 0; k < match.kinds_size(); ++k) {
      int kind = match.kinds(k);
      std::string kind_path = absl::StrCat(path, ".kinds[", k, "]");
      if (kind == v1::RouteMatch::KIND_UNSPECIFIED || !v1::RouteMatch::Kind_IsValid(kind)) {
        Error(kind_path, "must be one of LIST, INFO, MOD, ZIP, LATEST, SUMDB");
      } else if (!kinds.insert(kind).second) {
        Error(kind_path, absl::StrCat("duplicate kind ", v1::RouteMatch::Kind_Name(kind)));
      }
    }
    return match.prefix().empty() && match.exact().empty() && match.patterns().empty() &&
           match.kinds().empty();
  }

  void Fallback(const std::string& path, const v1::FallbackAction& fallback) {
    if (fallback.steps().empty()) Error(path + ".steps", "at least one step is required");
    for (int i = 0; i < fallback.steps_size(); ++i) {
      const v1::FallbackStep& step = fallback.steps(i);
      std::string step_path = absl::StrCat(path, ".steps[", i, "]");
      ClusterRef(step_path + ".cluster", step.cluster());
      bool last = i + 1 == fallback.steps_size();
      if (!v1::FallbackStep::On_IsValid(step.on())) {
        Error(step_path + ".on", absl::StrCat("invalid value ", step.on()));
      } else if (last && step.on() != v1::FallbackStep::ON_UNSPECIFIED) {
        Error(step_path + ".on", "must be unset on the last step (there is no next step)");
      } else if (!last && step.on() == v1::FallbackStep::ON_UNSPECIFIED) {
        Error(step_path + ".on", "required on all but the last step: NOT_FOUND or ANY_ERROR");
      }
    }
  }

  void Weighted(const std::string& path, const v1::WeightedClusters& weighted) {
    if (weighted.clusters().empty()) Error(path + ".clusters", "at least one cluster is required");
    uint64_t total = 0;
    absl::flat_hash_set<std::string> seen;
    for (int i = 0; i < weighted.clusters_size(); ++i) {
      const v1::ClusterWeight& entry = weighted.clusters(i);
      std::string entry_path = absl::StrCat(path, ".clusters[", i, "]");
      ClusterRef(entry_path + ".cluster", entry.cluster());
      if (!entry.cluster().empty() && !seen.insert(entry.cluster()).second) {
        Error(entry_path + ".cluster",
              absl::StrCat("cluster \"", entry.cluster(), "\" is listed twice"));
      }
      total += entry.weight();
    }
    if (!weighted.clusters().empty() && total == 0) {
      Error(path + ".clusters", "the weights must sum to more than 0");
    } else if (total > UINT32_MAX) {
      Error(path + ".clusters", "the weights must sum to at most 4294967295");
    }
  }

  void SumDbs(const v1::Bootstrap& b) {
    absl::flat_hash_set<std::string> names;
    for (int i = 0; i < b.sumdbs_size(); ++i) {
      const v1::SumDb& sumdb = b.sumdbs(i);
      std::string path = absl::StrCat("sumdbs[", i, "]");
      if (sumdb.name().empty()) {
        Error(path + ".name", "required");
      } else if (!IsValidHost(sumdb.name()) || sumdb.name().find(':') != std::string::npos) {
        Error(path + ".name", absl::StrCat("invalid name \"", sumdb.name(),
                                           "\" (expected a hostname such as sum.golang.org)"));
      } else if (!names.insert(sumdb.name()).second) {
        Error(path + ".name", absl::StrCat("duplicate name \"", sumdb.name(), "\""));
      }
      if (!sumdb.url().empty()) Url(path + ".url", sumdb.url());
    }
  }

  void Limits(const v1::Limits& limits) {
    if (limits.has_max_request_headers_kb()) {
      Range("limits.max_request_headers_kb", limits.max_request_headers_kb().value(), 1, 8192);
    }
    if (limits.has_max_headers_count()) {
      Range("limits.max_headers_count", limits.max_headers_count().value(), 1, 10000);
    }
    RequirePositive("limits.request_timeout", limits.has_request_timeout(),
                    limits.request_timeout());
    RequirePositive("limits.idle_timeout", limits.has_idle_timeout(), limits.idle_timeout());
    if (limits.has_max_concurrent_streams()) {
      Range("limits.max_concurrent_streams", limits.max_concurrent_streams().value(), 1, INT32_MAX);
    }
  }

  ErrorList errors_;
  absl::flat_hash_set<std::string> cluster_names_;
  // Address -> the path of the socket that claimed it.
  std::map<std::string, std::string> addresses_;
};

}  // namespace

bool IsValidLogLevel(absl::string_view level) {
  return level == "trace" || level == "debug" || level == "info" || level == "warn" ||
         level == "error" || level == "off";
}

bool IsValidResourceName(absl::string_view name) {
  if (name.empty()) return false;
  for (char c : name) {
    if (!absl::ascii_islower(c) && !absl::ascii_isdigit(c) && c != '_' && c != '.' && c != '-') {
      return false;
    }
  }
  return true;
}

absl::Status Validate(const v1::Bootstrap& bootstrap) { return Validator().Run(bootstrap); }

}  // namespace modgate::config
