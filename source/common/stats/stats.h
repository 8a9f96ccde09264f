#pragma once

#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

#include <memory>
#include <string>

namespace modgate::stats {

// Every metric modgate exports, created once at start-up. Children for the
// fixed label values are resolved here too, so the request path only does
// atomic increments (prometheus-cpp locks when a new label set is added).
class Stats {
 public:
  Stats();

  prometheus::Registry& registry() { return *registry_; }
  // The Prometheus text exposition of everything.
  std::string renderPrometheus() const;

  // modgate_downstream_rq_total{code_class="2xx"...}
  prometheus::Counter& downstreamResponses(int status);
  prometheus::Counter* downstream_cx_total;
  prometheus::Gauge* downstream_cx_active;
  prometheus::Counter* downstream_cx_overflow;

  // modgate_cache_requests_total{result="hit|miss|stale"}
  prometheus::Counter* cache_hit;
  prometheus::Counter* cache_miss;
  prometheus::Counter* cache_stale;
  prometheus::Gauge* cache_bytes;
  prometheus::Gauge* cache_entries;
  // The in-memory copies of small bodies (hot_cache_max_bytes bounds them).
  prometheus::Gauge* cache_hot_bytes;
  prometheus::Gauge* cache_hot_entries;
  prometheus::Counter* cache_evictions;

  // Status class index of an HTTP status: 1..5 for 1xx..5xx, 0 otherwise
  // (0 also counts requests that got no response at all).
  static int codeClassIndex(int status);
  // modgate_upstream_rq_total{cluster,host,code_class}; created at start-up.
  prometheus::Counter& upstreamHostRequests(const std::string& cluster, const std::string& host,
                                            int code_class_index);
  // modgate_upstream_host_healthy{cluster,host}: 1 healthy, 0 not.
  prometheus::Gauge& upstreamHostHealthy(const std::string& cluster, const std::string& host);
  enum class ClusterCounter {
    kRetry,
    kRetryOverflow,
    kOverflow,
    kNoHealthyHost,
    kEjection,
    kConnectionOverflow,
  };
  prometheus::Counter& clusterCounter(ClusterCounter which, const std::string& cluster);
  prometheus::Counter* upstream_rq_failed;
  prometheus::Counter* upstream_bytes_received;
  prometheus::Counter* singleflight_joined;

  prometheus::Counter* config_reload_success;
  prometheus::Counter* config_reload_failure;

 private:
  std::shared_ptr<prometheus::Registry> registry_;
  prometheus::Counter* downstream_by_class_[6];
  prometheus::Family<prometheus::Counter>* upstream_rq_;
  prometheus::Family<prometheus::Gauge>* upstream_healthy_;
  prometheus::Family<prometheus::Counter>* cluster_counters_[6];
};

}  // namespace modgate::stats
