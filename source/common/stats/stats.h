#pragma once

#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

#include <array>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "source/common/http/conn_manager/protocol_counters.h"
#include "source/common/stats/latency_histogram.h"

namespace modgate::stats {

class RequestLatency;

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
  prometheus::Counter* downstream_cx_accept_error;

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
  // The workers' precomputed response fields of small cached answers
  // (filters/goproxy/response_head_cache.h), updated by the workers:
  // modgate_response_head_cache_lookups_total{result="hit|miss"},
  // modgate_response_head_cache_evictions_total, modgate_response_head_cache_bytes.
  prometheus::Counter* response_head_hit;
  prometheus::Counter* response_head_miss;
  prometheus::Counter* response_head_evictions;
  prometheus::Gauge* response_head_bytes;
  // The same by cache kind (RequestLatency::kKinds order, "other" left
  // out: no cache key has it), from the cache's own counts at scrape:
  // modgate_cache_kind_{bytes,entries}, modgate_cache_kind_lookups_total
  // {result="hit|miss"}, modgate_cache_kind_evictions_total.
  static constexpr size_t kCacheKinds = 6;
  std::array<prometheus::Gauge*, kCacheKinds> cache_kind_bytes{};
  std::array<prometheus::Gauge*, kCacheKinds> cache_kind_entries{};
  std::array<prometheus::Counter*, kCacheKinds> cache_kind_hits{};
  std::array<prometheus::Counter*, kCacheKinds> cache_kind_misses{};
  std::array<prometheus::Counter*, kCacheKinds> cache_kind_evictions{};

  // Downstream connections and streams by protocol (http1, http1_tls, h2c,
  // h2), set at scrape from the workers' shared ProtocolCounters.
  void setProtocolCounts(const http::ProtocolCounters& counters);

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
  // modgate_verify_total{result="ok|mismatch|unverifiable"}: module content
  // checked against the checksum database before it was cached.
  prometheus::Counter* verify_ok;
  prometheus::Counter* verify_mismatch;
  prometheus::Counter* verify_unverifiable;
  // modgate_verify_zip_file_pass_total: zips whose streamed hash could not
  // be used (not streamable, or local headers and central directory
  // disagree), so the whole file was read and hashed again after the last
  // byte. Nonzero on ordinary module zips means verification costs double.
  prometheus::Counter* verify_zip_file_pass;

  // Access log lines written and dropped (the disk fell behind), and
  // failed writes; caught up from the writers' totals at scrape.
  prometheus::Counter* access_log_written_lines;
  prometheus::Counter* access_log_dropped_lines;
  prometheus::Counter* access_log_write_errors;
  // Brings a counter kept elsewhere (a monotonic total) up to `total`.
  static void catchUp(prometheus::Counter& counter, double total);

  // Latency histograms (latency_histogram.h), rendered after the
  // registry's metrics. Main thread, before the workers run: each worker's
  // downstream histograms (owned by the caller, outliving this).
  void addWorkerLatency(const RequestLatency* latency) { worker_latency_.push_back(latency); }
  const std::vector<const RequestLatency*>& workerLatency() const { return worker_latency_; }
  // modgate_upstream_rq_time_to_headers_seconds{cluster}: one histogram per
  // cluster name, created on the main thread when a cluster is built and
  // kept for the process's life (cluster names are bounded by the config).
  // Workers record into it with relaxed atomic adds: a cluster's attempts
  // come from every worker, but far more rarely than downstream requests.
  LatencyHistogram& upstreamTimeToHeaders(const std::string& cluster);

  prometheus::Counter* config_reload_success;
  prometheus::Counter* config_reload_failure;

 private:
  std::shared_ptr<prometheus::Registry> registry_;
  prometheus::Counter* downstream_by_class_[6];
  prometheus::Family<prometheus::Counter>* upstream_rq_;
  prometheus::Family<prometheus::Gauge>* upstream_healthy_;
  prometheus::Family<prometheus::Counter>* cluster_counters_[6];
  std::vector<const RequestLatency*> worker_latency_;
  static constexpr size_t kProtocols = http::ProtocolCounters::kNames.size();
  std::array<prometheus::Counter*, kProtocols> cx_protocol_total_{};
  std::array<prometheus::Gauge*, kProtocols> cx_protocol_active_{};
  std::array<prometheus::Counter*, kProtocols> rq_protocol_total_{};
  std::array<prometheus::Gauge*, kProtocols> rq_protocol_active_{};
  std::array<prometheus::Counter*, kProtocols> cx_protocol_error_{};
  std::map<std::string, std::unique_ptr<LatencyHistogram>> upstream_time_to_headers_;
};

}  // namespace modgate::stats
