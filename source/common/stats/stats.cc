#include "source/common/stats/stats.h"

#include <prometheus/text_serializer.h>

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
  auto& upstream_rq = prometheus::BuildCounter()
                          .Name("modgate_upstream_rq_total")
                          .Help("Upstream responses received, by status class")
                          .Register(*registry_);
  for (int i = 0; i < 6; ++i) {
    downstream_by_class_[i] = &downstream_rq.Add({{"code_class", kClasses[i]}});
    upstream_by_class_[i] = &upstream_rq.Add({{"code_class", kClasses[i]}});
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
  cache_evictions = &prometheus::BuildCounter()
                         .Name("modgate_cache_evictions_total")
                         .Help("Entries evicted to stay under the size cap")
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

prometheus::Counter& Stats::upstreamResponses(int status) {
  return *upstream_by_class_[classIndex(status)];
}

std::string Stats::renderPrometheus() const {
  prometheus::TextSerializer serializer;
  return serializer.Serialize(registry_->Collect());
}

}  // namespace modgate::stats
