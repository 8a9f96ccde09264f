#include "source/common/stats/stats.h"

#include <prometheus/text_serializer.h>

#include "absl/strings/str_cat.h"
#include "source/common/stats/request_latency.h"

namespace modgate::stats {
namespace {
constexpr const char* kClasses[6] = {"other", "1xx", "2xx", "3xx", "4xx", "5xx"};

int classIndex(int status) {
  int index = status / 100;
  return index >= 1 && index <= 5 ? index : 0;
}
}  // namespace

Stats::Stats() : registry_(std::make_shared<prometheus::Registry>()) {
  auto& downstream_rq = prometheus::BuildCounter()
                            .Name("modgate_downstream_rq_total")
                            .Help("Downstream requests answered, by status class")
                            .Register(*registry_);
  upstream_rq_ = &prometheus::BuildCounter()
                      .Name("modgate_upstream_rq_total")
                      .Help(
                          "Upstream requests by cluster, host and status class "
                          "(code=\"none\": no response)")
                      .Register(*registry_);
  upstream_healthy_ = &prometheus::BuildGauge()
                           .Name("modgate_upstream_host_healthy")
                           .Help("1 when the host passes health checks and is not ejected")
                           .Register(*registry_);
  const char* cluster_names[6][2] = {
      {"modgate_upstream_rq_retry_total", "Retries started"},
      {"modgate_upstream_rq_retry_overflow_total", "Retries refused by the retry circuit breaker"},
      {"modgate_upstream_rq_overflow_total",
       "Requests refused by the max_requests or max_pending_requests circuit breaker"},
      {"modgate_upstream_no_healthy_host_total", "Requests that found no host to send to"},
      {"modgate_upstream_ejections_total", "Outlier ejections"},
      {"modgate_upstream_cx_overflow_total",
       "New connections held back by max_connections or max_connections_per_host"},
  };
  for (int i = 0; i < 6; ++i) {
    cluster_counters_[i] = &prometheus::BuildCounter()
                                .Name(cluster_names[i][0])
                                .Help(cluster_names[i][1])
                                .Register(*registry_);
  }
  for (int i = 0; i < 6; ++i) {
    downstream_by_class_[i] = &downstream_rq.Add({{"code_class", kClasses[i]}});
  }
  downstream_cx_total = &prometheus::BuildCounter()
                             .Name("modgate_downstream_cx_total")
                             .Help("Downstream connections accepted")
                             .Register(*registry_)
                             .Add({});
  downstream_cx_overflow =
      &prometheus::BuildCounter()
           .Name("modgate_downstream_cx_overflow_total")
           .Help("Connections closed at once because of limits.max_connections")
           .Register(*registry_)
           .Add({});
  downstream_cx_accept_error =
      &prometheus::BuildCounter()
           .Name("modgate_downstream_cx_accept_error_total")
           .Help("accept() failures for want of descriptors or memory, each pausing the listener")
           .Register(*registry_)
           .Add({});
  downstream_cx_active = &prometheus::BuildGauge()
                              .Name("modgate_downstream_cx_active")
                              .Help("Open downstream connections")
                              .Register(*registry_)
                              .Add({});

  auto& cache_requests = prometheus::BuildCounter()
                             .Name("modgate_cache_requests_total")
                             .Help("GOPROXY requests by cache result")
                             .Register(*registry_);
  cache_hit = &cache_requests.Add({{"result", "hit"}});
  cache_miss = &cache_requests.Add({{"result", "miss"}});
  cache_stale = &cache_requests.Add({{"result", "stale"}});
  cache_bytes = &prometheus::BuildGauge()
                     .Name("modgate_cache_bytes")
                     .Help("Bytes held by the disk cache")
                     .Register(*registry_)
                     .Add({});
  cache_entries = &prometheus::BuildGauge()
                       .Name("modgate_cache_entries")
                       .Help("Entries held by the disk cache")
                       .Register(*registry_)
                       .Add({});
  cache_hot_bytes = &prometheus::BuildGauge()
                         .Name("modgate_cache_hot_bytes")
                         .Help("Bytes of small bodies also held in memory")
                         .Register(*registry_)
                         .Add({});
  cache_hot_entries = &prometheus::BuildGauge()
                           .Name("modgate_cache_hot_entries")
                           .Help("Entries whose body is also held in memory")
                           .Register(*registry_)
                           .Add({});
  cache_evictions = &prometheus::BuildCounter()
                         .Name("modgate_cache_evictions_total")
                         .Help("Entries evicted to stay under the size cap")
                         .Register(*registry_)
                         .Add({});
  auto& response_head_lookups =
      prometheus::BuildCounter()
          .Name("modgate_response_head_cache_lookups_total")
          .Help("Lookups of precomputed response fields for small cached answers")
          .Register(*registry_);
  response_head_hit = &response_head_lookups.Add({{"result", "hit"}});
  response_head_miss = &response_head_lookups.Add({{"result", "miss"}});
  response_head_evictions =
      &prometheus::BuildCounter()
           .Name("modgate_response_head_cache_evictions_total")
           .Help("Precomputed response fields dropped to stay under the workers' byte bound")
           .Register(*registry_)
           .Add({});
  response_head_bytes = &prometheus::BuildGauge()
                             .Name("modgate_response_head_cache_bytes")
                             .Help("Bytes of precomputed response fields, all workers")
                             .Register(*registry_)
                             .Add({});
  auto& kind_bytes = prometheus::BuildGauge()
                         .Name("modgate_cache_kind_bytes")
                         .Help("Bytes held by the disk cache, by kind")
                         .Register(*registry_);
  auto& kind_entries = prometheus::BuildGauge()
                           .Name("modgate_cache_kind_entries")
                           .Help("Entries held by the disk cache, by kind")
                           .Register(*registry_);
  auto& kind_lookups = prometheus::BuildCounter()
                           .Name("modgate_cache_kind_lookups_total")
                           .Help(
                               "Cache index lookups by kind: hit (an entry was found, fresh or "
                               "not) or miss")
                           .Register(*registry_);
  auto& kind_evictions = prometheus::BuildCounter()
                             .Name("modgate_cache_kind_evictions_total")
                             .Help("Entries evicted to stay under the size cap, by kind")
                             .Register(*registry_);
  for (size_t k = 0; k < kCacheKinds; ++k) {
    const std::string kind(RequestLatency::kKinds[k]);
    cache_kind_bytes[k] = &kind_bytes.Add({{"kind", kind}});
    cache_kind_entries[k] = &kind_entries.Add({{"kind", kind}});
    cache_kind_hits[k] = &kind_lookups.Add({{"kind", kind}, {"result", "hit"}});
    cache_kind_misses[k] = &kind_lookups.Add({{"kind", kind}, {"result", "miss"}});
    cache_kind_evictions[k] = &kind_evictions.Add({{"kind", kind}});
  }
  auto& cx_protocol_total = prometheus::BuildCounter()
                                .Name("modgate_downstream_cx_protocol_total")
                                .Help(
                                    "Downstream connections by protocol (an h2c upgrade counts "
                                    "as http1, then h2c)")
                                .Register(*registry_);
  auto& cx_protocol_active = prometheus::BuildGauge()
                                 .Name("modgate_downstream_cx_protocol_active")
                                 .Help("Open downstream connections by protocol")
                                 .Register(*registry_);
  auto& rq_protocol_total = prometheus::BuildCounter()
                                .Name("modgate_downstream_rq_protocol_total")
                                .Help("Downstream streams (requests) by protocol")
                                .Register(*registry_);
  auto& rq_protocol_active = prometheus::BuildGauge()
                                 .Name("modgate_downstream_rq_protocol_active")
                                 .Help("Downstream streams in progress by protocol")
                                 .Register(*registry_);
  auto& cx_protocol_error =
      prometheus::BuildCounter()
          .Name("modgate_downstream_cx_protocol_error_total")
          .Help(
              "Downstream connections closed for a protocol error or an abuse limit (HTTP/2 "
              "floods, rapid reset, endless CONTINUATION), by protocol")
          .Register(*registry_);
  for (size_t p = 0; p < kProtocols; ++p) {
    const prometheus::Labels labels = {
        {"protocol", std::string(http::ProtocolCounters::kNames[p])}};
    cx_protocol_total_[p] = &cx_protocol_total.Add(labels);
    cx_protocol_active_[p] = &cx_protocol_active.Add(labels);
    rq_protocol_total_[p] = &rq_protocol_total.Add(labels);
    rq_protocol_active_[p] = &rq_protocol_active.Add(labels);
    cx_protocol_error_[p] = &cx_protocol_error.Add(labels);
  }
  access_log_written_lines = &prometheus::BuildCounter()
                                  .Name("modgate_access_log_written_lines_total")
                                  .Help("Access log lines written")
                                  .Register(*registry_)
                                  .Add({});
  access_log_dropped_lines = &prometheus::BuildCounter()
                                  .Name("modgate_access_log_dropped_lines_total")
                                  .Help("Access log lines dropped because the writer fell behind")
                                  .Register(*registry_)
                                  .Add({});
  access_log_write_errors = &prometheus::BuildCounter()
                                 .Name("modgate_access_log_write_errors_total")
                                 .Help("Access log writes or reopens that failed")
                                 .Register(*registry_)
                                 .Add({});
  upstream_rq_failed = &prometheus::BuildCounter()
                            .Name("modgate_upstream_rq_failed_total")
                            .Help("Upstream requests that failed without a response")
                            .Register(*registry_)
                            .Add({});
  upstream_bytes_received = &prometheus::BuildCounter()
                                 .Name("modgate_upstream_bytes_received_total")
                                 .Help("Body bytes received from upstreams")
                                 .Register(*registry_)
                                 .Add({});
  singleflight_joined = &prometheus::BuildCounter()
                             .Name("modgate_singleflight_joined_total")
                             .Help("Requests that joined a fetch already in flight")
                             .Register(*registry_)
                             .Add({});
  auto& verify = prometheus::BuildCounter()
                     .Name("modgate_verify_total")
                     .Help("Module .mod and .zip bodies checked against the checksum database")
                     .Register(*registry_);
  verify_ok = &verify.Add({{"result", "ok"}});
  verify_mismatch = &verify.Add({{"result", "mismatch"}});
  verify_unverifiable = &verify.Add({{"result", "unverifiable"}});
  verify_zip_file_pass =
      &prometheus::BuildCounter()
           .Name("modgate_verify_zip_file_pass_total")
           .Help(
               "Module zips hashed again from the whole file because their streamed hash "
               "could not be used")
           .Register(*registry_)
           .Add({});
  auto& reloads = prometheus::BuildCounter()
                      .Name("modgate_config_reload_total")
                      .Help("Configuration loads by result")
                      .Register(*registry_);
  config_reload_success = &reloads.Add({{"result", "success"}});
  config_reload_failure = &reloads.Add({{"result", "failure"}});
}

prometheus::Counter& Stats::downstreamResponses(int status) {
  return *downstream_by_class_[classIndex(status)];
}

int Stats::codeClassIndex(int status) { return classIndex(status); }

prometheus::Counter& Stats::upstreamHostRequests(const std::string& cluster,
                                                 const std::string& host, int code_class_index) {
  const char* code_class = code_class_index == 0 ? "none" : kClasses[code_class_index];
  return upstream_rq_->Add({{"cluster", cluster}, {"host", host}, {"code", code_class}});
}

prometheus::Gauge& Stats::upstreamHostHealthy(const std::string& cluster, const std::string& host) {
  return upstream_healthy_->Add({{"cluster", cluster}, {"host", host}});
}

prometheus::Counter& Stats::clusterCounter(ClusterCounter which, const std::string& cluster) {
  return cluster_counters_[static_cast<int>(which)]->Add({{"cluster", cluster}});
}

LatencyHistogram& Stats::upstreamTimeToHeaders(const std::string& cluster) {
  std::unique_ptr<LatencyHistogram>& histogram = upstream_time_to_headers_[cluster];
  if (histogram == nullptr) histogram = std::make_unique<LatencyHistogram>();
  return *histogram;
}

std::string Stats::renderPrometheus() const {
  prometheus::TextSerializer serializer;
  std::string out = serializer.Serialize(registry_->Collect());
  // The workers' histograms, merged per label set.
  const size_t kinds = RequestLatency::kKinds.size();
  const size_t caches = RequestLatency::kCacheResults.size();
  for (bool ttfb : {false, true}) {
    const char* name = ttfb ? "modgate_downstream_rq_time_to_first_byte_seconds"
                            : "modgate_downstream_rq_duration_seconds";
    appendHistogramHead(out, name,
                        ttfb ? "Request headers received to response headers sent, by request "
                               "kind and cache result"
                             : "Request headers received to last response byte, by request kind "
                               "and cache result");
    for (size_t k = 0; k < kinds; ++k) {
      for (size_t c = 0; c < caches; ++c) {
        LatencyHistogram::Snapshot merged;
        for (const RequestLatency* worker : worker_latency_) {
          const RequestLatency::Pair& pair = worker->at(k, c);
          merged.add(ttfb ? pair.ttfb.snapshot() : pair.duration.snapshot());
        }
        appendHistogramSeries(
            out, name,
            absl::StrCat("kind=\"", std::string(RequestLatency::kKinds[k]), "\",cache=\"",
                         std::string(RequestLatency::kCacheResults[c]), "\""),
            merged);
      }
    }
  }
  appendHistogramHead(
      out, "modgate_upstream_rq_time_to_headers_seconds",
      "Upstream request sent to response headers received, per attempt, by cluster");
  for (const auto& [cluster, histogram] : upstream_time_to_headers_) {
    appendHistogramSeries(out, "modgate_upstream_rq_time_to_headers_seconds",
                          absl::StrCat("cluster=\"", cluster, "\""), histogram->snapshot());
  }
  return out;
}

void Stats::setProtocolCounts(const http::ProtocolCounters& counters) {
  for (size_t p = 0; p < kProtocols; ++p) {
    const http::ProtocolCounters::Counts& counts = counters.by_protocol[p];
    catchUp(*cx_protocol_total_[p], static_cast<double>(counts.cx_total.load()));
    catchUp(*rq_protocol_total_[p], static_cast<double>(counts.rq_total.load()));
    catchUp(*cx_protocol_error_[p], static_cast<double>(counts.cx_protocol_error.load()));
    cx_protocol_active_[p]->Set(static_cast<double>(counts.cx_active.load()));
    rq_protocol_active_[p]->Set(static_cast<double>(counts.rq_active.load()));
  }
}

void Stats::catchUp(prometheus::Counter& counter, double total) {
  if (total > counter.Value()) counter.Increment(total - counter.Value());
}

}  // namespace modgate::stats
