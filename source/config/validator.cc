#include "source/config/validator.h"

#include <cstdint>
#include <map>
#include <string>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "source/config/defaults.h"
#include "source/config/error_list.h"
#include "source/config/glob_pattern.h"
#include "source/config/host_port.h"
#include "source/config/upstream_url.h"
#include "source/sumdb/note.h"

namespace modgate::config {
namespace {

constexpr uint32_t kMaxConcurrency = 1024;
constexpr uint32_t kMaxEndpointWeight = 128;
constexpr uint32_t kMaxPriority = 127;

bool IsPositive(const google::protobuf::Duration& d) {
  return d.seconds() > 0 || (d.seconds() == 0 && d.nanos() > 0);
}

absl::Duration ToAbsl(const google::protobuf::Duration& d) {
  return absl::Seconds(d.seconds()) + absl::Nanoseconds(d.nanos());
}

bool IsNegative(const google::protobuf::Duration& d) { return d.seconds() < 0 || d.nanos() < 0; }

// a < b for valid (same-signed) durations.
bool Less(const google::protobuf::Duration& a, const google::protobuf::Duration& b) {
  return a.seconds() < b.seconds() || (a.seconds() == b.seconds() && a.nanos() < b.nanos());
}

bool IsPrime(uint64_t n) {
  if (n < 2) return false;
  for (uint64_t d = 2; d * d <= n; ++d) {
    if (n % d == 0) return false;
  }
  return true;
}

// RFC 9110 token characters, the syntax of a header name.
bool IsHeaderName(absl::string_view name) {
  if (name.empty()) return false;
  for (char c : name) {
    if (!absl::ascii_isalnum(c) &&
        absl::string_view("!#$%&'*+-.^_`|~").find(c) == absl::string_view::npos) {
      return false;
    }
  }
  return true;
}

// An absolute request path: starts with '/', no spaces, control characters
// or fragment.
bool IsRequestPath(absl::string_view path) {
  if (path.empty() || path.front() != '/') return false;
  for (char c : path) {
    if (static_cast<unsigned char>(c) <= 0x20 || c == 0x7f || c == '#') return false;
  }
  return true;
}

constexpr size_t kMaxNodeIdLength = 253;
constexpr size_t kMaxLabelLength = 63;
constexpr uint32_t kMaxHealthThreshold = 1000;
constexpr uint32_t kMaxNumRetries = 100;
constexpr uint32_t kMaxHostSelectionAttempts = 100;
constexpr uint32_t kMaxChoiceCount = 100;
constexpr uint32_t kMaxOverprovisioningFactor = 10000;
constexpr uint64_t kMaxRingSize = 8388608;
constexpr uint64_t kMaglevTableSizeLimit = 5000011;

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
    ClientAuth(b);
    ModulePolicies(b);
    Node(b.node());
    if (b.has_control_plane()) ControlPlane(b.control_plane());
    for (const auto& [key, value] : b.runtime()) {
      if (!IsRuntimeKey(key)) {
        Error(absl::StrCat("runtime[\"", key, "\"]"),
              "invalid runtime key (dot-separated segments of a-z 0-9 _ -)");
      }
    }
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

  // A percentage 0..100 held in a double (NaN fails too).
  void Percent(const std::string& path, double value) {
    if (!(value >= 0 && value <= 100)) Error(path, "must be 0..100");
  }

  // Optional duration: when set, > 0.
  void OptionalPositive(const std::string& path, bool has, const google::protobuf::Duration& d) {
    if (has && !IsPositive(d)) Error(path, "must be positive");
  }

  // Optional duration: when set, >= 0.
  void OptionalNonNegative(const std::string& path, bool has, const google::protobuf::Duration& d) {
    if (has && IsNegative(d)) Error(path, "must not be negative");
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
      if (listener.has_access_log()) AccessLog(path + ".access_log", listener.access_log());
      if (listener.has_tls()) DownstreamTls(path + ".tls", listener.tls());
    }
  }

  void Principals(const std::string& path,
                  const google::protobuf::RepeatedPtrField<std::string>& principals) {
    for (int i = 0; i < principals.size(); ++i) {
      const std::string& p = principals[i];
      if (p.empty() || p.find_first_of(" \t\r\n") != std::string::npos) {
        Error(absl::StrCat(path, "[", i, "]"), "a principal is a non-empty string without spaces");
      }
    }
  }

  void ClientAuth(const v1::Bootstrap& b) {
    if (!b.has_client_auth()) return;
    if (b.client_auth().credentials_file().empty()) {
      Error("client_auth.credentials_file", "required");
    }
    if (b.client_auth().realm().find('"') != std::string::npos) {
      Error("client_auth.realm", "cannot hold '\"'");
    }
  }

  void ModulePolicies(const v1::Bootstrap& b) {
    absl::flat_hash_map<std::string, int> names;
    for (int i = 0; i < b.module_policies_size(); ++i) {
      const v1::ModulePolicy& policy = b.module_policies(i);
      const std::string path = absl::StrCat("module_policies[", i, "]");
      Name(path + ".name", policy.name(), names, i, "module_policies");
      if (policy.action() != v1::ModulePolicy::DENY && policy.action() != v1::ModulePolicy::ALLOW) {
        Error(path + ".action", "required: DENY or ALLOW");
      }
      if (absl::Status s = ValidateGlobList(policy.modules()); !s.ok()) {
        Error(path + ".modules", s.message());
      }
      for (int v = 0; v < policy.versions_size(); ++v) {
        const std::string& version = policy.versions(v);
        if (version.size() < 2 || version[0] != 'v') {
          Error(absl::StrCat(path, ".versions[", v, "]"),
                absl::StrCat("\"", version, "\" is not a version (v1.2.3)"));
        }
      }
      for (int k = 0; k < policy.kinds_size(); ++k) {
        int kind = policy.kinds(k);
        if (kind == v1::RouteMatch::KIND_UNSPECIFIED || !v1::RouteMatch::Kind_IsValid(kind)) {
          Error(absl::StrCat(path, ".kinds[", k, "]"),
                "must be one of LIST, INFO, MOD, ZIP, LATEST, SUMDB");
        }
      }
      if (policy.hide_only() &&
          (policy.action() != v1::ModulePolicy::DENY ||
           (policy.versions().empty() && !policy.pseudo_versions() && !policy.retracted()))) {
        Error(path + ".hide_only",
              "needs action DENY and a version condition (versions, pseudo_versions, retracted)");
      }
      Principals(path + ".principals", policy.principals());
      if (policy.anonymous() && !policy.principals().empty()) {
        Error(path + ".anonymous", "exclusive with principals");
      }
    }
  }

  void DownstreamTls(const std::string& path, const v1::DownstreamTls& tls) {
    ValidateDownstreamTls(path, tls, errors_);
  }

  // What can be checked without reading the files (the TLS context is
  // built at startup and on reload, and a bad file names its field there).
  void UpstreamTls(const std::string& path, const v1::UpstreamTls& tls) {
    if (tls.insecure_skip_verify() && !tls.ca_file().empty()) {
      Error(path, "ca_file and insecure_skip_verify are mutually exclusive");
    }
    if (!tls.sni().empty() && !IsValidHost(tls.sni())) {
      Error(path + ".sni", absl::StrCat("invalid server name \"", tls.sni(), "\""));
    }
    if (tls.has_client_certificate()) {
      const auto& certificate = tls.client_certificate();
      if (certificate.certificate_chain_file().empty()) {
        Error(path + ".client_certificate.certificate_chain_file", "required");
      }
      if (certificate.private_key_file().empty()) {
        Error(path + ".client_certificate.private_key_file", "required");
      }
    }
  }

  void AccessLog(const std::string& path, const v1::AccessLog& log) {
    if (log.path().empty()) {
      Error(path + ".path", "required (\"stdout\" or an absolute file path)");
    } else if (log.path() != "stdout" && log.path().front() != '/') {
      Error(path + ".path",
            absl::StrCat("\"", log.path(), "\" is neither \"stdout\" nor an absolute path"));
    }
    if (log.has_sample_percent() &&
        !(log.sample_percent().value() > 0 && log.sample_percent().value() <= 100)) {
      Error(path + ".sample_percent", "must be > 0 and <= 100");
    }
    if (log.has_max_pending_bytes() && log.max_pending_bytes().value() < 4096) {
      Error(path + ".max_pending_bytes", "must be at least 4096");
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
    RequireNonNegative("cache.stale_while_revalidate", cache.has_stale_while_revalidate(),
                       cache.stale_while_revalidate());
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
      Priorities(path, cluster);
      if (cluster.has_health_check()) {
        HealthCheck(path + ".health_check", cluster.health_check());
      } else {
        for (int j = 0; j < cluster.endpoints_size(); ++j) {
          if (!cluster.endpoints(j).health_check_path().empty()) {
            Error(absl::StrCat(path, ".endpoints[", j, "].health_check_path"),
                  "only allowed when the cluster has a health_check");
          }
        }
      }
      if (cluster.has_outlier_detection()) {
        OutlierDetection(path + ".outlier_detection", cluster.outlier_detection());
      }
      if (cluster.has_circuit_breakers()) {
        CircuitBreakers(path + ".circuit_breakers", cluster.circuit_breakers());
      }
      if (cluster.has_retry_policy()) {
        RetryPolicy(path + ".retry_policy", cluster.retry_policy());
      }
      LbConfig(path, cluster);
    }
  }

  // Envoy requires priority levels 0..N without gaps.
  void Priorities(const std::string& path, const v1::Cluster& cluster) {
    std::map<uint32_t, int> first_endpoint;  // priority -> first endpoint index
    for (int j = 0; j < cluster.endpoints_size(); ++j) {
      first_endpoint.emplace(cluster.endpoints(j).priority(), j);
    }
    uint32_t expected = 0;
    for (const auto& [priority, index] : first_endpoint) {
      if (priority > kMaxPriority) break;  // Reported by Endpoint().
      if (priority != expected) {
        Error(absl::StrCat(path, ".endpoints[", index, "].priority"),
              absl::StrCat("priority ", priority, " is used but priority ", expected,
                           " has no endpoints (levels must be contiguous from 0)"));
        break;
      }
      ++expected;
    }
  }

  void HealthCheck(const std::string& path, const v1::HealthCheck& hc) {
    if (hc.path().empty()) {
      Error(path + ".path", "required");
    } else if (!IsRequestPath(hc.path())) {
      Error(path + ".path",
            absl::StrCat("invalid path \"", hc.path(),
                         "\" (must start with \"/\"; no spaces, control characters or \"#\")"));
    }
    if (!hc.host().empty()) {
      absl::StatusOr<HostPort> host_port = ParseHostPort(hc.host());
      if (!host_port.ok() && !IsValidHost(hc.host())) {
        Error(path + ".host",
              absl::StrCat("invalid host \"", hc.host(), "\" (expected a hostname or host:port)"));
      }
    }
    RequirePositive(path + ".interval", hc.has_interval(), hc.interval());
    RequirePositive(path + ".timeout", hc.has_timeout(), hc.timeout());
    if (hc.has_interval() && hc.has_timeout() && IsPositive(hc.interval()) &&
        IsPositive(hc.timeout()) && Less(hc.interval(), hc.timeout())) {
      Error(path + ".timeout", "must not exceed interval");
    }
    OptionalNonNegative(path + ".initial_jitter", hc.has_initial_jitter(), hc.initial_jitter());
    OptionalNonNegative(path + ".interval_jitter", hc.has_interval_jitter(), hc.interval_jitter());
    Range(path + ".interval_jitter_percent", hc.interval_jitter_percent(), 0, 100);
    if (!hc.has_unhealthy_threshold()) {
      Error(path + ".unhealthy_threshold", "required");
    } else {
      Range(path + ".unhealthy_threshold", hc.unhealthy_threshold().value(), 1,
            kMaxHealthThreshold);
    }
    if (!hc.has_healthy_threshold()) {
      Error(path + ".healthy_threshold", "required");
    } else {
      Range(path + ".healthy_threshold", hc.healthy_threshold().value(), 1, kMaxHealthThreshold);
    }
    for (int i = 0; i < hc.expected_statuses_size(); ++i) {
      const v1::StatusRange& range = hc.expected_statuses(i);
      std::string range_path = absl::StrCat(path, ".expected_statuses[", i, "]");
      if (range.start() < 100 || range.start() > 599) {
        Error(range_path + ".start", "must be 100..599");
      } else if (range.end() != 0 && (range.end() <= range.start() || range.end() > 600)) {
        Error(range_path + ".end", absl::StrCat("must be ", range.start() + 1,
                                                "..600 (the range is [start, end)) or "
                                                "0 for the single code start"));
      }
    }
    OptionalPositive(path + ".unhealthy_interval", hc.has_unhealthy_interval(),
                     hc.unhealthy_interval());
    OptionalPositive(path + ".healthy_edge_interval", hc.has_healthy_edge_interval(),
                     hc.healthy_edge_interval());
    OptionalPositive(path + ".unhealthy_edge_interval", hc.has_unhealthy_edge_interval(),
                     hc.unhealthy_edge_interval());
    RequirePositive(path + ".no_traffic_interval", hc.has_no_traffic_interval(),
                    hc.no_traffic_interval());
  }

  void OutlierDetection(const std::string& path, const v1::OutlierDetection& od) {
    auto threshold = [&](absl::string_view name, bool has, uint32_t value) {
      if (has && value < 1) Error(absl::StrCat(path, ".", name), "must be at least 1");
    };
    auto percent = [&](absl::string_view name, bool has, uint32_t value) {
      if (has) Range(absl::StrCat(path, ".", name), value, 0, 100);
    };
    threshold("consecutive_5xx", od.has_consecutive_5xx(), od.consecutive_5xx().value());
    threshold("consecutive_gateway_failure", od.has_consecutive_gateway_failure(),
              od.consecutive_gateway_failure().value());
    threshold("consecutive_local_origin_failure", od.has_consecutive_local_origin_failure(),
              od.consecutive_local_origin_failure().value());
    percent("max_ejection_percent", od.has_max_ejection_percent(),
            od.max_ejection_percent().value());
    percent("enforcing_consecutive_5xx", od.has_enforcing_consecutive_5xx(),
            od.enforcing_consecutive_5xx().value());
    percent("enforcing_consecutive_gateway_failure", od.has_enforcing_consecutive_gateway_failure(),
            od.enforcing_consecutive_gateway_failure().value());
    percent("enforcing_consecutive_local_origin_failure",
            od.has_enforcing_consecutive_local_origin_failure(),
            od.enforcing_consecutive_local_origin_failure().value());
    RequirePositive(path + ".interval", od.has_interval(), od.interval());
    RequirePositive(path + ".base_ejection_time", od.has_base_ejection_time(),
                    od.base_ejection_time());
    RequirePositive(path + ".max_ejection_time", od.has_max_ejection_time(),
                    od.max_ejection_time());
    if (IsPositive(od.base_ejection_time()) && IsPositive(od.max_ejection_time()) &&
        Less(od.max_ejection_time(), od.base_ejection_time())) {
      Error(path + ".max_ejection_time", "must not be less than base_ejection_time");
    }
  }

  void CircuitBreakers(const std::string& path, const v1::CircuitBreakers& cb) {
    if (cb.has_max_connections() && cb.max_connections().value() < 1) {
      Error(path + ".max_connections", "must be at least 1");
    }
    if (cb.has_max_requests() && cb.max_requests().value() < 1) {
      Error(path + ".max_requests", "must be at least 1");
    }
    if (cb.has_retry_budget() && cb.retry_budget().has_budget_percent()) {
      Percent(path + ".retry_budget.budget_percent", cb.retry_budget().budget_percent().value());
    }
  }

  void RetryPolicy(const std::string& path, const v1::RetryPolicy& retry) {
    absl::flat_hash_set<int> conditions;
    for (int i = 0; i < retry.retry_on_size(); ++i) {
      int on = retry.retry_on(i);
      std::string on_path = absl::StrCat(path, ".retry_on[", i, "]");
      if (on == v1::RetryPolicy::RETRY_ON_UNSPECIFIED || !v1::RetryPolicy::RetryOn_IsValid(on)) {
        Error(on_path,
              "must be one of FIVE_XX (\"5xx\"), GATEWAY_ERROR, RESET, CONNECT_FAILURE, "
              "REFUSED_STREAM");
      } else if (!conditions.insert(on).second) {
        Error(on_path, absl::StrCat("duplicate condition ", v1::RetryPolicy::RetryOn_Name(on)));
      }
    }
    if (retry.has_num_retries()) {
      Range(path + ".num_retries", retry.num_retries().value(), 0, kMaxNumRetries);
    }
    uint32_t num_retries = retry.has_num_retries() ? retry.num_retries().value() : 1;
    if (num_retries > 0 && retry.retry_on().empty()) {
      Error(path + ".retry_on",
            "at least one condition is required when num_retries > 0 (an empty list never "
            "retries), e.g. [CONNECT_FAILURE, RESET, GATEWAY_ERROR]");
    }
    OptionalNonNegative(path + ".per_try_timeout", retry.has_per_try_timeout(),
                        retry.per_try_timeout());
    if (retry.has_retry_back_off()) {
      const v1::RetryPolicy::RetryBackOff& back_off = retry.retry_back_off();
      std::string back_off_path = path + ".retry_back_off";
      RequirePositive(back_off_path + ".base_interval", back_off.has_base_interval(),
                      back_off.base_interval());
      OptionalPositive(back_off_path + ".max_interval", back_off.has_max_interval(),
                       back_off.max_interval());
      if (IsPositive(back_off.base_interval()) && IsPositive(back_off.max_interval()) &&
          Less(back_off.max_interval(), back_off.base_interval())) {
        Error(back_off_path + ".max_interval", "must not be less than base_interval");
      }
    }
    if (retry.has_host_selection_retry_max_attempts()) {
      Range(path + ".host_selection_retry_max_attempts",
            retry.host_selection_retry_max_attempts().value(), 1, kMaxHostSelectionAttempts);
    }
  }

  void LbConfig(const std::string& path, const v1::Cluster& cluster) {
    const v1::CommonLbConfig& common = cluster.common_lb_config();
    bool consistent_hashing =
        cluster.lb_policy() == v1::Cluster::RING_HASH || cluster.lb_policy() == v1::Cluster::MAGLEV;
    if (common.has_healthy_panic_threshold()) {
      Percent(path + ".common_lb_config.healthy_panic_threshold",
              common.healthy_panic_threshold().value());
    }
    if (common.has_overprovisioning_factor()) {
      Range(path + ".common_lb_config.overprovisioning_factor",
            common.overprovisioning_factor().value(), 100, kMaxOverprovisioningFactor);
    }
    if (common.has_consistent_hashing_lb_config()) {
      std::string ch_path = path + ".common_lb_config.consistent_hashing_lb_config";
      const v1::CommonLbConfig::ConsistentHashingLbConfig& ch =
          common.consistent_hashing_lb_config();
      if (!consistent_hashing) {
        Error(ch_path, "only applies to lb_policy RING_HASH or MAGLEV");
      }
      if (ch.has_hash_balance_factor() && ch.hash_balance_factor().value() != 0 &&
          ch.hash_balance_factor().value() < 100) {
        Error(ch_path + ".hash_balance_factor", "must be 0 (unbounded) or at least 100");
      }
    }
    auto mismatch = [&](absl::string_view field, v1::Cluster::LbPolicy policy) {
      if (cluster.lb_policy() != policy) {
        Error(absl::StrCat(path, ".", field),
              absl::StrCat("only applies to lb_policy ", v1::Cluster::LbPolicy_Name(policy),
                           " (lb_policy is ",
                           v1::Cluster::LbPolicy_IsValid(cluster.lb_policy())
                               ? v1::Cluster::LbPolicy_Name(cluster.lb_policy())
                               : absl::StrCat(cluster.lb_policy()),
                           ")"));
      }
    };
    switch (cluster.lb_config_case()) {
      case v1::Cluster::kRingHashLbConfig: {
        mismatch("ring_hash_lb_config", v1::Cluster::RING_HASH);
        const v1::RingHashLbConfig& ring = cluster.ring_hash_lb_config();
        std::string ring_path = path + ".ring_hash_lb_config";
        if (ring.has_minimum_ring_size()) {
          Range(ring_path + ".minimum_ring_size", ring.minimum_ring_size().value(), 1,
                kMaxRingSize);
        }
        if (ring.has_maximum_ring_size()) {
          Range(ring_path + ".maximum_ring_size", ring.maximum_ring_size().value(), 1,
                kMaxRingSize);
        }
        uint64_t min = ring.has_minimum_ring_size() ? ring.minimum_ring_size().value()
                                                    : kDefaultMinimumRingSize;
        uint64_t max = ring.has_maximum_ring_size() ? ring.maximum_ring_size().value()
                                                    : kDefaultMaximumRingSize;
        if (min > max && min <= kMaxRingSize) {
          Error(ring_path + ".minimum_ring_size",
                absl::StrCat("must not exceed maximum_ring_size (", max, ")"));
        }
        break;
      }
      case v1::Cluster::kMaglevLbConfig: {
        mismatch("maglev_lb_config", v1::Cluster::MAGLEV);
        const v1::MaglevLbConfig& maglev = cluster.maglev_lb_config();
        if (maglev.has_table_size()) {
          uint64_t size = maglev.table_size().value();
          if (size >= kMaglevTableSizeLimit || !IsPrime(size)) {
            Error(path + ".maglev_lb_config.table_size",
                  absl::StrCat("must be a prime below ", kMaglevTableSizeLimit,
                               " (e.g. 65537 or 655373), got ", size));
          }
        }
        break;
      }
      case v1::Cluster::kLeastRequestLbConfig: {
        mismatch("least_request_lb_config", v1::Cluster::LEAST_REQUEST);
        const v1::LeastRequestLbConfig& least = cluster.least_request_lb_config();
        if (least.has_choice_count()) {
          Range(path + ".least_request_lb_config.choice_count", least.choice_count().value(), 2,
                kMaxChoiceCount);
        }
        break;
      }
      case v1::Cluster::LB_CONFIG_NOT_SET:
        break;
    }
  }

  void Endpoint(const std::string& path, const v1::Endpoint& endpoint) {
    if (endpoint.url().empty()) {
      Error(path + ".url", "required");
    } else {
      absl::StatusOr<UpstreamUrl> url = ParseEndpointUrl(endpoint.url());
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
    UpstreamTls(path + ".tls", endpoint.tls());
    if (!endpoint.health_check_path().empty() && !IsRequestPath(endpoint.health_check_path())) {
      Error(path + ".health_check_path",
            absl::StrCat("invalid path \"", endpoint.health_check_path(),
                         "\" (must start with \"/\"; no spaces, control characters or \"#\")"));
    }
  }

  void Routes(const v1::Bootstrap& b) {
    // A sidecar may start with no route at all: its control plane (or the
    // config it last ACKed) supplies them; until then requests get a 404
    // naming the missing route.
    if (b.routes().empty() && !b.has_control_plane()) {
      Error("routes", "at least one route is required");
    }
    absl::flat_hash_map<std::string, int> route_names;
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
      OptionalNonNegative(path + ".timeout", route.has_timeout(), route.timeout());
      if (!route.name().empty()) {
        if (!IsValidResourceName(route.name())) {
          Error(path + ".name",
                absl::StrCat("invalid name \"", route.name(), "\" (allowed: a-z 0-9 _ . -)"));
        } else if (auto [it, inserted] = route_names.emplace(route.name(), i); !inserted) {
          Error(path + ".name", absl::StrCat("duplicate name \"", route.name(), "\" (also routes[",
                                             it->second, "])"));
        }
      }
      if (route.has_rollout()) Rollout(path, route);
      if (route.has_shadow()) Shadow(path, route);
      for (int h = 0; h < route.hash_policy_size(); ++h) {
        HashPolicy(absl::StrCat(path, ".hash_policy[", h, "]"), route.hash_policy(h));
      }
    }
  }

  void Rollout(const std::string& route_path, const v1::Route& route) {
    const std::string path = route_path + ".rollout";
    const v1::Rollout& rollout = route.rollout();
    if (route.name().empty()) Error(route_path + ".name", "required with a rollout");
    if (route.action_case() != v1::Route::kWeightedClusters ||
        route.weighted_clusters().clusters_size() != 2) {
      Error(path, "requires weighted_clusters with exactly two clusters (stable and canary)");
    } else if (rollout.canary_cluster().empty()) {
      Error(path + ".canary_cluster", "required");
    } else if (route.weighted_clusters().clusters(0).cluster() != rollout.canary_cluster() &&
               route.weighted_clusters().clusters(1).cluster() != rollout.canary_cluster()) {
      Error(path + ".canary_cluster",
            absl::StrCat("\"", rollout.canary_cluster(),
                         "\" is not one of the route's weighted_clusters"));
    }
    if (rollout.stages().empty()) Error(path + ".stages", "at least one stage is required");
    uint32_t previous = 0;
    for (int i = 0; i < rollout.stages_size(); ++i) {
      const v1::RolloutStage& stage = rollout.stages(i);
      std::string stage_path = absl::StrCat(path, ".stages[", i, "]");
      if (stage.weight() > 100) {
        Error(stage_path + ".weight", "must be 0..100");
      } else if (stage.weight() < previous) {
        Error(stage_path + ".weight",
              absl::StrCat("must not be below the previous stage's ", previous,
                           " (clients only move from stable to canary)"));
      }
      previous = std::max(previous, stage.weight());
      OptionalNonNegative(stage_path + ".min_duration", stage.has_min_duration(),
                          stage.min_duration());
    }
    if (!rollout.stages().empty() && rollout.stages().rbegin()->weight() != 100) {
      Error(absl::StrCat(path, ".stages[", rollout.stages_size() - 1, "].weight"),
            "the last stage must be 100");
    }
    if (rollout.has_fleet() && rollout.fleet().canary_weight() > 100) {
      Error(path + ".fleet.canary_weight", "must be 0..100");
    }
    absl::Duration interval = absl::Seconds(10);
    if (rollout.has_evaluation_interval()) {
      interval = ToAbsl(rollout.evaluation_interval());
      if (interval < absl::Milliseconds(100) || interval > absl::Hours(1)) {
        Error(path + ".evaluation_interval", "must be 100ms..1h");
      }
    }
    for (int i = 0; i < rollout.gates_size(); ++i) {
      const v1::RolloutGate& gate = rollout.gates(i);
      std::string gate_path = absl::StrCat(path, ".gates[", i, "]");
      if (gate.metric() == v1::RolloutGate::METRIC_UNSPECIFIED ||
          !v1::RolloutGate::Metric_IsValid(gate.metric())) {
        Error(gate_path + ".metric",
              "must be one of ERROR_RATIO, P99_LATENCY_MS, CONTENT_MISMATCH");
      }
      if (!(gate.max() >= 0)) Error(gate_path + ".max", "must be >= 0");
      if (gate.relative_to_stable() && gate.metric() == v1::RolloutGate::CONTENT_MISMATCH) {
        Error(gate_path + ".relative_to_stable", "not available for CONTENT_MISMATCH");
      }
      if (gate.has_stable_factor() && !(gate.stable_factor().value() >= 0)) {
        Error(gate_path + ".stable_factor", "must be >= 0");
      }
      if (gate.has_window()) {
        absl::Duration window = ToAbsl(gate.window());
        if (window < absl::Seconds(1) || window > absl::Hours(1)) {
          Error(gate_path + ".window", "must be 1s..1h");
        } else if (window < interval) {
          Error(gate_path + ".window", "must be at least rollout.evaluation_interval");
        }
      } else if (interval > absl::Seconds(60)) {
        Error(gate_path + ".window",
              "the default 60s is shorter than rollout.evaluation_interval; set a longer one");
      }
    }
  }

  void Shadow(const std::string& route_path, const v1::Route& route) {
    const std::string path = route_path + ".shadow";
    const v1::Shadow& shadow = route.shadow();
    if (route.name().empty()) Error(route_path + ".name", "required with a shadow");
    Percent(path + ".percent", shadow.percent());
    if (!shadow.cluster().empty()) {
      ClusterRef(path + ".cluster", shadow.cluster());
    } else if (!route.has_rollout()) {
      Error(path + ".cluster", "required on a route without a rollout");
    }
    if (route.action_case() == v1::Route::kDirectResponse) {
      Error(path, "a direct_response route has nothing to shadow");
    }
  }

  void HashPolicy(const std::string& path, const v1::HashPolicy& policy) {
    switch (policy.policy_specifier_case()) {
      case v1::HashPolicy::kModulePath:
        break;
      case v1::HashPolicy::kHeader:
        HeaderName(path + ".header.header_name", policy.header().header_name());
        break;
      case v1::HashPolicy::kConnectionProperties:
        if (!policy.connection_properties().source_ip()) {
          Error(path + ".connection_properties.source_ip", "must be true");
        }
        break;
      case v1::HashPolicy::POLICY_SPECIFIER_NOT_SET:
        Error(path, "one of module_path, header, connection_properties is required");
        break;
    }
  }

  void HeaderName(const std::string& path, const std::string& name) {
    if (name.empty()) {
      Error(path, "required");
    } else if (!IsHeaderName(name)) {
      Error(path, absl::StrCat("invalid header name \"", name, "\""));
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
    Principals(path + ".principals", match.principals());
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
    for (int h = 0; h < match.headers_size(); ++h) {
      const v1::HeaderMatcher& header = match.headers(h);
      std::string header_path = absl::StrCat(path, ".headers[", h, "]");
      HeaderName(header_path + ".name", header.name());
      if (header.exact_match().find_first_of("\r\n") != std::string::npos ||
          header.exact_match().find('\0') != std::string::npos) {
        Error(header_path + ".exact_match", "must not contain CR, LF or NUL");
      }
    }
    return match.prefix().empty() && match.exact().empty() && match.patterns().empty() &&
           match.kinds().empty() && match.headers().empty() && match.principals().empty();
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
    switch (weighted.stickiness().key_case()) {
      case v1::ClientStickiness::kSourceIp:
        if (!weighted.stickiness().source_ip())
          Error(path + ".stickiness.source_ip", "must be true");
        break;
      case v1::ClientStickiness::kHeader:
        HeaderName(path + ".stickiness.header", weighted.stickiness().header());
        break;
      case v1::ClientStickiness::kNode:
        if (!weighted.stickiness().node()) Error(path + ".stickiness.node", "must be true");
        break;
      case v1::ClientStickiness::KEY_NOT_SET:
        break;
    }
    if (!weighted.pin_header().empty()) HeaderName(path + ".pin_header", weighted.pin_header());
    if (!weighted.runtime_key_prefix().empty() && !IsRuntimeKey(weighted.runtime_key_prefix())) {
      Error(path + ".runtime_key_prefix",
            absl::StrCat("invalid runtime key \"", weighted.runtime_key_prefix(),
                         "\" (dot-separated segments of a-z 0-9 _ -)"));
    }
  }

  void SumDbs(const v1::Bootstrap& b) {
    absl::flat_hash_set<std::string> names;
    std::string keyed;  // the path of the database with a key
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
      if (sumdb.stream_while_verifying() && sumdb.key().empty()) {
        Error(path + ".stream_while_verifying", "needs key (nothing is verified without it)");
      }
      if (!sumdb.key().empty()) {
        auto verifier = sumdb::NoteVerifier::Parse(sumdb.key());
        if (!verifier.ok()) {
          Error(path + ".key", verifier.status().message());
        } else if (verifier->name() != sumdb.name()) {
          Error(path + ".key",
                absl::StrCat("key of \"", verifier->name(), "\", not of \"", sumdb.name(), "\""));
        } else if (!keyed.empty()) {
          Error(path + ".key", absl::StrCat("only one checksum database verifies modules (", keyed,
                                            ".key is set)"));
        } else {
          keyed = path;
        }
      }
    }
    if (absl::Status s = ValidateGlobList(b.nosum()); !s.ok()) Error("nosum", s.message());
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
    RequirePositive("limits.drain_timeout", limits.has_drain_timeout(), limits.drain_timeout());
    if (limits.has_max_concurrent_streams()) {
      Range("limits.max_concurrent_streams", limits.max_concurrent_streams().value(), 1, INT32_MAX);
    }
    RequireNonNegative("limits.send_timeout", limits.has_send_timeout(), limits.send_timeout());
    const v1::Http2Protection& http2 = limits.http2();
    const auto optional_range = [&](const char* name, bool has,
                                    const google::protobuf::UInt32Value& field, uint32_t high) {
      if (has) Range(absl::StrCat("limits.http2.", name), field.value(), 1, high);
    };
    optional_range("max_outbound_control_frames", http2.has_max_outbound_control_frames(),
                   http2.max_outbound_control_frames(), 100000);
    optional_range("max_settings_entries", http2.has_max_settings_entries(),
                   http2.max_settings_entries(), 1000);
    optional_range("max_continuation_frames", http2.has_max_continuation_frames(),
                   http2.max_continuation_frames(), 1000);
    optional_range("stream_reset_burst", http2.has_stream_reset_burst(), http2.stream_reset_burst(),
                   1000000);
    optional_range("stream_resets_per_second", http2.has_stream_resets_per_second(),
                   http2.stream_resets_per_second(), 1000000);
  }

  // 1..max characters (0..max when `required` is false), none of them
  // whitespace or control characters: ids and labels travel in logs and
  // in the control plane's JSON.
  void NodeText(const std::string& path, const std::string& text, size_t max, bool required) {
    if (text.empty()) {
      if (required) Error(path, "required");
      return;
    }
    if (text.size() > max) {
      Error(path, absl::StrCat("at most ", max, " characters"));
      return;
    }
    for (char c : text) {
      if (static_cast<unsigned char>(c) <= 0x20 || c == 0x7f) {
        Error(path, absl::StrCat("invalid \"", absl::CHexEscape(text),
                                 "\" (no whitespace or control characters)"));
        return;
      }
    }
  }

  void Node(const v1::Node& node) {
    NodeText("node.id", node.id(), kMaxNodeIdLength, true);
    NodeText("node.cluster", node.cluster(), kMaxNodeIdLength, false);
    for (const auto& [key, value] : node.labels()) {
      std::string path = absl::StrCat("node.labels[\"", absl::CHexEscape(key), "\"]");
      bool key_ok = !key.empty() && key.size() <= kMaxLabelLength;
      for (char c : key) {
        key_ok = key_ok && (absl::ascii_isalnum(c) || c == '.' || c == '_' || c == '/' || c == '-');
      }
      if (!key_ok) {
        Error(path, absl::StrCat("invalid label key (1..", kMaxLabelLength,
                                 " characters of A-Z a-z 0-9 . _ / -)"));
      }
      NodeText(path, value, kMaxLabelLength, false);
    }
  }

  void ControlPlane(const v1::ControlPlane& cp) {
    if (cp.urls().empty()) Error("control_plane.urls", "at least one URL is required");
    bool any_https = false;
    absl::flat_hash_set<std::string> seen;
    for (int i = 0; i < cp.urls_size(); ++i) {
      std::string path = absl::StrCat("control_plane.urls[", i, "]");
      absl::StatusOr<UpstreamUrl> url = ParseUpstreamUrl(cp.urls(i));
      if (!url.ok()) {
        Error(path, url.status().message());
        continue;
      }
      if (!url->path_prefix.empty()) {
        Error(path,
              absl::StrCat("no path allowed (gRPC uses its own), got \"", url->path_prefix, "\""));
      }
      if (!seen.insert(cp.urls(i)).second) Error(path, "duplicate URL");
      any_https = any_https || url->scheme == "https";
    }
    if (cp.has_tls()) {
      if (!any_https && !cp.urls().empty()) {
        Error("control_plane.tls", "only allowed with https:// URLs");
      }
      UpstreamTls("control_plane.tls", cp.tls());
    }
    RequirePositive("control_plane.connect_timeout", cp.has_connect_timeout(),
                    cp.connect_timeout());
    if (cp.has_connect_timeout() && ToAbsl(cp.connect_timeout()) > absl::Seconds(60)) {
      Error("control_plane.connect_timeout", "must be at most 60s");
    }
    RequirePositive("control_plane.retry_base_interval", cp.has_retry_base_interval(),
                    cp.retry_base_interval());
    RequirePositive("control_plane.retry_max_interval", cp.has_retry_max_interval(),
                    cp.retry_max_interval());
    if (IsNegative(cp.initial_fetch_timeout()) ||
        ToAbsl(cp.initial_fetch_timeout()) > absl::Seconds(600)) {
      Error("control_plane.initial_fetch_timeout", "must be 0 (wait) or at most 600s");
    }
    if (IsPositive(cp.retry_base_interval()) && IsPositive(cp.retry_max_interval()) &&
        Less(cp.retry_max_interval(), cp.retry_base_interval())) {
      Error("control_plane.retry_max_interval", "must be >= retry_base_interval");
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

bool IsRuntimeKey(absl::string_view key) {
  if (key.empty() || key.front() == '.' || key.back() == '.') return false;
  char previous = 0;
  for (char c : key) {
    if (c == '.' && previous == '.') return false;
    if (!absl::ascii_islower(c) && !absl::ascii_isdigit(c) && c != '_' && c != '-' && c != '.') {
      return false;
    }
    previous = c;
  }
  return true;
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

void ValidateDownstreamTls(const std::string& path, const v1::DownstreamTls& tls,
                           ErrorList& errors) {
  if (tls.certificates().empty()) errors.Add(path + ".certificates", "at least one is required");
  for (int i = 0; i < tls.certificates_size(); ++i) {
    const std::string item = absl::StrCat(path, ".certificates[", i, "]");
    if (tls.certificates(i).certificate_chain_file().empty()) {
      errors.Add(item + ".certificate_chain_file", "required");
    }
    if (tls.certificates(i).private_key_file().empty()) {
      errors.Add(item + ".private_key_file", "required");
    }
  }
  absl::flat_hash_set<std::string> alpn;
  for (int i = 0; i < tls.alpn_protocols_size(); ++i) {
    const std::string& protocol = tls.alpn_protocols(i);
    const std::string item = absl::StrCat(path, ".alpn_protocols[", i, "]");
    if (protocol != "h2" && protocol != "http/1.1") {
      errors.Add(item, absl::StrCat("unsupported protocol \"", protocol, "\" (h2 or http/1.1)"));
    } else if (!alpn.insert(protocol).second) {
      errors.Add(item, absl::StrCat("duplicate \"", protocol, "\""));
    }
  }
  auto version = [](v1::DownstreamTls::Version v, int fallback) {
    return v == v1::DownstreamTls::VERSION_UNSPECIFIED ? fallback : static_cast<int>(v);
  };
  if (version(tls.min_version(), v1::DownstreamTls::TLS_1_2) >
      version(tls.max_version(), v1::DownstreamTls::TLS_1_3)) {
    errors.Add(path + ".min_version", "greater than max_version");
  }
  if (tls.client_ca_file().empty() && (tls.client_certificate() == v1::DownstreamTls::REQUEST ||
                                       tls.client_certificate() == v1::DownstreamTls::REQUIRE)) {
    errors.Add(path + ".client_certificate", "needs client_ca_file to verify client certificates");
  }
  if (tls.has_session_ticket_rotation()) {
    const auto& rotation = tls.session_ticket_rotation();
    if (IsNegative(rotation) || ToAbsl(rotation) > absl::Hours(24) ||
        (IsPositive(rotation) && ToAbsl(rotation) < absl::Seconds(1))) {
      errors.Add(path + ".session_ticket_rotation", "must be 0 (no tickets) or 1s..24h");
    }
  }
}

}  // namespace modgate::config
