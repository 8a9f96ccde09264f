#pragma once

#include <prometheus/counter.h>
#include <prometheus/gauge.h>

#include <atomic>
#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "source/common/common/thread_pool.h"
#include "source/common/event/dispatcher.h"
#include "source/common/stats/latency_histogram.h"
#include "source/upstream/health/outlier_detector.h"
#include "source/upstream/http_client.h"
#include "source/upstream/load_balancer/host.h"
#include "source/upstream/load_balancer/host_set.h"
#include "source/upstream/load_balancer/lb_options.h"
#include "source/upstream/load_balancer/load_balancer.h"

namespace modgate::upstream {

// Which failures a retry covers (Envoy's retry_on).
enum RetryOn : uint32_t {
  kRetryOn5xx = 1 << 0,             // any 5xx, and everything gateway-error covers
  kRetryOnGatewayError = 1 << 1,    // 502/503/504, connect failure, timeout
  kRetryOnReset = 1 << 2,           // reset, connect failure, timeout
  kRetryOnConnectFailure = 1 << 3,  // connect failure (and TLS/DNS failure)
  kRetryOnRefusedStream = 1 << 4,   // HTTP/2 REFUSED_STREAM (the client retries those itself)
};

struct RetryPolicy {
  uint32_t retry_on = 0;
  uint32_t num_retries = 0;
  std::chrono::milliseconds per_try_timeout{0};  // 0: none
  std::chrono::milliseconds base_interval{25};
  std::chrono::milliseconds max_interval{250};
  bool avoid_previous_hosts = false;
  uint32_t host_selection_retry_max_attempts = 1;
};

struct CircuitBreakerLimits {
  uint32_t max_connections = 1024;
  uint32_t max_pending_requests = 1024;
  uint32_t max_requests = 1024;
  uint32_t max_retries = 3;
  // When set, retries may use this share of active requests instead of
  // max_retries, but always at least min_retry_concurrency.
  std::optional<double> retry_budget_percent;
  uint32_t min_retry_concurrency = 3;
};

// What a cluster's load balancer hands out: one endpoint, with its URL and
// client settings, its live health flags (atomics: written by the main
// thread's health checker and outlier detector, read by workers), and its
// per-host counters.
struct Endpoint {
  Url url;
  ClientSettings client;
  // Endpoints with equal keys share one upstream client (and its pools).
  std::string client_key;
  std::string health_check_path;
  // Connections open (or opening) to this endpoint from every worker,
  // capped at Cluster.max_connections_per_host.
  ResourceLimitSharedPtr connections;
  std::atomic<bool> health_check_failed{false};
  std::atomic<bool> outlier_ejected{false};
  // modgate_upstream_rq_total{cluster,host,code_class}, by status class;
  // [0] counts requests that got no response.
  prometheus::Counter* rq_by_class[6] = {};
  prometheus::Gauge* healthy_gauge = nullptr;
  // Passive health: workers report each attempt's outcome here (lock-free).
  // Set at start-up, before workers run; null without outlier detection.
  OutlierMonitorSharedPtr outlier;

  bool healthy() const { return !health_check_failed.load() && !outlier_ejected.load(); }
};

// The client an endpoint's requests go through: a file tree reader for
// file:// URLs (its reads on `file_pool`), else the HTTP client with the
// endpoint's settings.
std::unique_ptr<HttpClient> createEndpointClient(event::Dispatcher& dispatcher,
                                                 const Endpoint& endpoint,
                                                 common::ThreadPool& file_pool);

struct ClusterStats {
  prometheus::Counter* rq_retry = nullptr;
  prometheus::Counter* rq_retry_overflow = nullptr;
  prometheus::Counter* rq_overflow = nullptr;  // circuit breaker: max_requests/max_pending
  prometheus::Counter* no_healthy_host = nullptr;
  // Connections held back by max_connections / max_connections_per_host.
  prometheus::Counter* cx_overflow = nullptr;
  // Each attempt's time from sending to response headers.
  stats::LatencyHistogram* time_to_headers = nullptr;
};

// The fixed part of a cluster, from its configuration.
struct ClusterInfo {
  std::string name;
  LbPolicy lb_policy = LbPolicy::kRoundRobin;
  LbOptions lb_options;
  HostSetOptions host_set_options;
  // Includes the cluster-wide connection circuit breakers (max_connections,
  // max_pending_requests), shared by the requests of every worker; each
  // attempt adds its endpoint's `connections`.
  RequestOptions request_options;
  RetryPolicy retry;
  CircuitBreakerLimits circuit_breakers;
};

// An upstream module proxy (or checksum database): its hosts and their
// state. Shared by every thread; after construction it changes only
// through atomics, so workers read it without locks.
class Cluster {
 public:
  Cluster(ClusterInfo info, std::vector<HostSharedPtr> hosts, ClusterStats stats);

  const ClusterInfo& info() const { return info_; }
  const std::string& name() const { return info_.name; }
  const std::vector<HostSharedPtr>& hosts() const { return hosts_; }
  const ClusterStats& stats() const { return stats_; }
  static Endpoint& endpoint(const Host& host) {
    return *static_cast<Endpoint*>(host.user_data.get());
  }

  // Main thread: a balancer factory over the hosts' health right now.
  std::shared_ptr<const LoadBalancerFactory> buildLoadBalancerFactory() const;

  // Circuit breakers: requests in flight and retries in flight, across
  // workers. Callers check before starting and count with the guards below.
  bool requestAllowed() const;
  bool retryAllowed() const;
  std::atomic<uint32_t> active_requests{0};
  std::atomic<uint32_t> active_retries{0};

 private:
  const ClusterInfo info_;
  const std::vector<HostSharedPtr> hosts_;
  const ClusterStats stats_;
};
using ClusterSharedPtr = std::shared_ptr<Cluster>;

// Creates a host for `endpoint` (the host owns it through user_data).
HostSharedPtr makeHost(std::unique_ptr<Endpoint> endpoint, uint32_t weight, uint32_t priority);

}  // namespace modgate::upstream
