#include "source/upstream/cluster/cluster_manager.h"

#include "absl/strings/str_cat.h"
#include "google/protobuf/util/message_differencer.h"
#include "source/common/common/time.h"

namespace modgate::upstream {
namespace {

LbPolicy toPolicy(config::v1::Cluster::LbPolicy policy) {
  switch (policy) {
    case config::v1::Cluster::LEAST_REQUEST:
      return LbPolicy::kLeastRequest;
    case config::v1::Cluster::RING_HASH:
      return LbPolicy::kRingHash;
    case config::v1::Cluster::MAGLEV:
      return LbPolicy::kMaglev;
    case config::v1::Cluster::RANDOM:
      return LbPolicy::kRandom;
    default:
      return LbPolicy::kRoundRobin;
  }
}

ClusterInfo buildInfo(const config::v1::Cluster& proto) {
  ClusterInfo info;
  info.name = proto.name();
  info.lb_policy = toPolicy(proto.lb_policy());
  if (proto.has_least_request_lb_config() && proto.least_request_lb_config().has_choice_count()) {
    info.lb_options.least_request.choice_count =
        proto.least_request_lb_config().choice_count().value();
  }
  if (proto.has_ring_hash_lb_config()) {
    const auto& ring = proto.ring_hash_lb_config();
    if (ring.has_minimum_ring_size()) {
      info.lb_options.ring_hash.minimum_ring_size = ring.minimum_ring_size().value();
    }
    if (ring.has_maximum_ring_size()) {
      info.lb_options.ring_hash.maximum_ring_size = ring.maximum_ring_size().value();
    }
  }
  if (proto.has_maglev_lb_config() && proto.maglev_lb_config().has_table_size()) {
    info.lb_options.maglev.table_size = proto.maglev_lb_config().table_size().value();
  }
  const auto& common = proto.common_lb_config();
  if (common.has_healthy_panic_threshold()) {
    info.host_set_options.healthy_panic_threshold = common.healthy_panic_threshold().value();
  }
  if (common.has_overprovisioning_factor()) {
    info.host_set_options.overprovisioning_factor = common.overprovisioning_factor().value();
  }
  if (common.consistent_hashing_lb_config().has_hash_balance_factor()) {
    info.lb_options.hash_balance_factor =
        common.consistent_hashing_lb_config().hash_balance_factor().value();
  }

  RequestOptions defaults;
  info.request_options.connect_timeout =
      common::toMillisecondsOr(proto.connect_timeout(), defaults.connect_timeout);
  info.request_options.response_timeout =
      common::toMillisecondsOr(proto.response_timeout(), defaults.response_timeout);
  info.request_options.idle_timeout =
      common::toMillisecondsOr(proto.idle_timeout(), defaults.idle_timeout);

  if (proto.has_retry_policy()) {
    const auto& retry = proto.retry_policy();
    for (int on : retry.retry_on()) {
      switch (on) {
        case config::v1::RetryPolicy::FIVE_XX:
          info.retry.retry_on |= kRetryOn5xx;
          break;
        case config::v1::RetryPolicy::GATEWAY_ERROR:
          info.retry.retry_on |= kRetryOnGatewayError;
          break;
        case config::v1::RetryPolicy::RESET:
          info.retry.retry_on |= kRetryOnReset;
          break;
        case config::v1::RetryPolicy::CONNECT_FAILURE:
          info.retry.retry_on |= kRetryOnConnectFailure;
          break;
        case config::v1::RetryPolicy::REFUSED_STREAM:
          info.retry.retry_on |= kRetryOnRefusedStream;
          break;
        default:
          break;
      }
    }
    info.retry.num_retries = retry.has_num_retries() ? retry.num_retries().value() : 1;
    info.retry.per_try_timeout =
        common::toMillisecondsOr(retry.per_try_timeout(), std::chrono::milliseconds(0));
    info.retry.base_interval = common::toMillisecondsOr(retry.retry_back_off().base_interval(),
                                                        std::chrono::milliseconds(25));
    info.retry.max_interval = common::toMillisecondsOr(retry.retry_back_off().max_interval(),
                                                       info.retry.base_interval * 10);
    info.retry.avoid_previous_hosts = retry.retry_host_predicate_previous_hosts();
    if (retry.has_host_selection_retry_max_attempts()) {
      info.retry.host_selection_retry_max_attempts =
          retry.host_selection_retry_max_attempts().value();
    }
  }
  const auto& breakers = proto.circuit_breakers();
  auto& limits = info.circuit_breakers;
  if (breakers.has_max_connections()) limits.max_connections = breakers.max_connections().value();
  if (breakers.has_max_pending_requests()) {
    limits.max_pending_requests = breakers.max_pending_requests().value();
  }
  if (breakers.has_max_requests()) limits.max_requests = breakers.max_requests().value();
  if (breakers.has_max_retries()) limits.max_retries = breakers.max_retries().value();
  if (breakers.has_retry_budget()) {
    limits.retry_budget_percent = breakers.retry_budget().has_budget_percent()
                                      ? breakers.retry_budget().budget_percent().value()
                                      : 20.0;
    if (breakers.retry_budget().has_min_retry_concurrency()) {
      limits.min_retry_concurrency = breakers.retry_budget().min_retry_concurrency().value();
    }
  }
  return info;
}

std::optional<HealthCheckOptions> healthCheckOptions(const config::v1::Cluster& proto) {
  if (!proto.has_health_check()) return std::nullopt;
  const auto& hc = proto.health_check();
  HealthCheckOptions options;
  options.path = hc.path();
  options.host = hc.host();
  options.interval = common::toMillisecondsOr(hc.interval(), options.interval);
  options.timeout = common::toMillisecondsOr(hc.timeout(), options.timeout);
  options.initial_jitter =
      common::toMillisecondsOr(hc.initial_jitter(), std::chrono::milliseconds(0));
  options.interval_jitter =
      common::toMillisecondsOr(hc.interval_jitter(), std::chrono::milliseconds(0));
  options.interval_jitter_percent = hc.interval_jitter_percent();
  if (hc.has_unhealthy_threshold()) options.unhealthy_threshold = hc.unhealthy_threshold().value();
  if (hc.has_healthy_threshold()) options.healthy_threshold = hc.healthy_threshold().value();
  for (const auto& range : hc.expected_statuses()) {
    options.expected_statuses.push_back(StatusRange{range.start(), range.end()});
  }
  if (hc.has_unhealthy_interval())
    options.unhealthy_interval = common::toMillisecondsOr(hc.unhealthy_interval(), {});
  if (hc.has_healthy_edge_interval()) {
    options.healthy_edge_interval = common::toMillisecondsOr(hc.healthy_edge_interval(), {});
  }
  if (hc.has_unhealthy_edge_interval()) {
    options.unhealthy_edge_interval = common::toMillisecondsOr(hc.unhealthy_edge_interval(), {});
  }
  options.no_traffic_interval =
      common::toMillisecondsOr(hc.no_traffic_interval(), options.no_traffic_interval);
  return options;
}

std::optional<OutlierDetectionOptions> outlierOptions(const config::v1::Cluster& proto) {
  if (!proto.has_outlier_detection()) return std::nullopt;
  const auto& od = proto.outlier_detection();
  OutlierDetectionOptions options;
  if (od.has_consecutive_5xx()) options.consecutive_5xx = od.consecutive_5xx().value();
  options.interval = common::toMillisecondsOr(od.interval(), options.interval);
  options.base_ejection_time =
      common::toMillisecondsOr(od.base_ejection_time(), options.base_ejection_time);
  options.max_ejection_time = common::toMillisecondsOr(
      od.max_ejection_time(), std::max(options.max_ejection_time, options.base_ejection_time));
  if (od.has_max_ejection_percent())
    options.max_ejection_percent = od.max_ejection_percent().value();
  if (od.has_enforcing_consecutive_5xx()) {
    options.enforcing_consecutive_5xx = od.enforcing_consecutive_5xx().value();
  }
  if (od.has_consecutive_gateway_failure()) {
    options.consecutive_gateway_failure = od.consecutive_gateway_failure().value();
  }
  if (od.has_enforcing_consecutive_gateway_failure()) {
    options.enforcing_consecutive_gateway_failure =
        od.enforcing_consecutive_gateway_failure().value();
  }
  options.split_external_local_origin_errors = od.split_external_local_origin_errors();
  if (od.has_consecutive_local_origin_failure()) {
    options.consecutive_local_origin_failure = od.consecutive_local_origin_failure().value();
  }
  if (od.has_enforcing_consecutive_local_origin_failure()) {
    options.enforcing_consecutive_local_origin_failure =
        od.enforcing_consecutive_local_origin_failure().value();
  }
  return options;
}

// The config without endpoint weights and priorities: two clusters equal
// here differ at most in those, which the running hosts can take in place.
config::v1::Cluster withoutWeights(const config::v1::Cluster& proto) {
  config::v1::Cluster copy = proto;
  for (auto& endpoint : *copy.mutable_endpoints()) {
    endpoint.clear_weight();
    endpoint.clear_priority();
  }
  return copy;
}

bool sameConfig(const config::v1::Cluster& a, const config::v1::Cluster& b) {
  return google::protobuf::util::MessageDifferencer::Equals(a, b);
}

}  // namespace

struct ClusterManager::Update::Built {
  ClusterSharedPtr cluster;
  std::shared_ptr<const LoadBalancerFactory> factory;
  std::unique_ptr<Runtime> runtime;
};

ClusterManager::Update::~Update() = default;

std::vector<std::pair<config::v1::Cluster, std::string>> ClusterManager::clusterConfigs(
    const config::v1::Bootstrap& bootstrap) {
  std::vector<std::pair<config::v1::Cluster, std::string>> out;
  for (int i = 0; i < bootstrap.clusters_size(); ++i) {
    out.emplace_back(bootstrap.clusters(i), absl::StrCat("clusters[", i, "]"));
  }
  for (int i = 0; i < bootstrap.sumdbs_size(); ++i) {
    const auto& db = bootstrap.sumdbs(i);
    if (db.url().empty()) continue;
    config::v1::Cluster synthetic;
    synthetic.set_name(absl::StrCat("sumdb_", db.name()));
    synthetic.add_endpoints()->set_url(db.url());
    out.emplace_back(std::move(synthetic), absl::StrCat("sumdbs[", i, "]"));
  }
  return out;
}

absl::StatusOr<std::unique_ptr<ClusterManager::Update::Built>> ClusterManager::build(
    const config::v1::Cluster& proto, const std::string& path) {
  ClusterInfo info = buildInfo(proto);
  using Which = stats::Stats::ClusterCounter;
  prometheus::Counter* cx_overflow = &stats_.clusterCounter(Which::kConnectionOverflow, info.name);
  auto count_cx_overflow = [cx_overflow] { cx_overflow->Increment(); };
  info.request_options.limits.cluster_connections =
      std::make_shared<ResourceLimit>(info.circuit_breakers.max_connections, count_cx_overflow);
  info.request_options.limits.pending_requests =
      std::make_shared<ResourceLimit>(info.circuit_breakers.max_pending_requests);
  // The documented default applies to clusters made here (sumdb URLs) too.
  const uint32_t max_connections_per_host =
      proto.has_max_connections_per_host() ? proto.max_connections_per_host().value() : 64;
  std::vector<HostSharedPtr> hosts;
  for (int i = 0; i < proto.endpoints_size(); ++i) {
    const auto& config = proto.endpoints(i);
    auto url = Url::parse(config.url());
    if (!url.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat(path, ".endpoints[", i, "].url: ", url.status().message()));
    }
    auto endpoint = std::make_unique<Endpoint>();
    endpoint->url = *url;
    const auto& tls = config.tls();
    if (!tls.ca_file().empty()) endpoint->client.ca_file = tls.ca_file();
    endpoint->client.verify = !tls.insecure_skip_verify();
    endpoint->client.sni = tls.sni();
    endpoint->client.certificate_chain_file = tls.client_certificate().certificate_chain_file();
    endpoint->client.private_key_file = tls.client_certificate().private_key_file();
    endpoint->client.http2 = proto.http2();
    // Cluster.http2 promises prior knowledge over cleartext (h2c): an
    // http:// endpoint has no ALPN to pick h2 by.
    endpoint->client.http2_prior_knowledge = proto.http2();
    endpoint->client.pool_idle_timeout = info.request_options.idle_timeout;
    // Per cluster: a pooled connection counts against the circuit breakers
    // of the cluster that opened it, so clusters must not share pools. Every
    // client setting is in it: a reloaded cluster with other settings gets
    // another client.
    endpoint->client_key = absl::StrCat(
        endpoint->url.file() ? "file|" : "", info.name, "|", endpoint->client.ca_file, "|",
        endpoint->client.verify, "|", endpoint->client.http2, "|", endpoint->client.sni, "|",
        endpoint->client.certificate_chain_file, "|", endpoint->client.private_key_file, "|",
        endpoint->client.pool_idle_timeout.count());
    endpoint->connections =
        std::make_shared<ResourceLimit>(max_connections_per_host, count_cx_overflow);
    endpoint->health_check_path = config.health_check_path();
    HostSharedPtr host = makeHost(
        std::move(endpoint), config.has_weight() ? config.weight().value() : 1, config.priority());
    Endpoint& data = Cluster::endpoint(*host);
    for (int c = 0; c < 6; ++c) {
      data.rq_by_class[c] = &stats_.upstreamHostRequests(info.name, host->name, c);
    }
    // Set at commit: a prepared update may still be dropped, and the gauge
    // is shared with a running host of the same name.
    data.healthy_gauge = &stats_.upstreamHostHealthy(info.name, host->name);
    hosts.push_back(std::move(host));
  }
  if (hosts.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(path, ".endpoints: at least one is required"));
  }
  ClusterStats cluster_stats;
  cluster_stats.cx_overflow = cx_overflow;
  cluster_stats.rq_retry = &stats_.clusterCounter(Which::kRetry, info.name);
  cluster_stats.rq_retry_overflow = &stats_.clusterCounter(Which::kRetryOverflow, info.name);
  cluster_stats.rq_overflow = &stats_.clusterCounter(Which::kOverflow, info.name);
  cluster_stats.no_healthy_host = &stats_.clusterCounter(Which::kNoHealthyHost, info.name);
  cluster_stats.time_to_headers = &stats_.upstreamTimeToHeaders(info.name);
  std::string name = info.name;
  auto built = std::make_unique<Update::Built>();
  built->cluster = std::make_shared<Cluster>(std::move(info), std::move(hosts), cluster_stats);
  built->factory = built->cluster->buildLoadBalancerFactory();
  if (built->factory == nullptr) {
    return absl::InvalidArgumentError(absl::StrCat(path, ": invalid load balancer options"));
  }
  built->runtime = std::make_unique<Runtime>();
  built->runtime->manager = this;
  built->runtime->cluster = name;
  built->runtime->health_check = healthCheckOptions(proto);
  built->runtime->outlier_detection = outlierOptions(proto);
  built->runtime->ejections = &stats_.clusterCounter(Which::kEjection, name);
  return built;
}

absl::StatusOr<std::unique_ptr<ClusterManager>> ClusterManager::create(
    const config::v1::Bootstrap& bootstrap, stats::Stats& stats) {
  std::unique_ptr<ClusterManager> manager(new ClusterManager(stats));
  // Everything is new; commit() before start() only records it.
  auto update = manager->prepare(bootstrap);
  if (!update.ok()) return update.status();
  manager->commit(std::move(*update));
  return manager;
}

absl::StatusOr<std::unique_ptr<ClusterManager::Update>> ClusterManager::prepare(
    const config::v1::Bootstrap& bootstrap) {
  auto update = std::make_unique<Update>();
  for (auto& [proto, path] : clusterConfigs(bootstrap)) {
    const std::string name = proto.name();
    auto running = protos_.find(name);
    if (running != protos_.end() && sameConfig(*running->second, proto)) {
      update->kept.push_back(name);
      update->clusters_[name] = clusters_.at(name);
    } else if (running != protos_.end() &&
               sameConfig(withoutWeights(*running->second), withoutWeights(proto))) {
      // Same endpoints in the same order: the hosts take the new values.
      update->reweighted.push_back(name);
      update->clusters_[name] = clusters_.at(name);
      auto& weights = update->weights_[name];
      for (const auto& endpoint : proto.endpoints()) {
        weights.emplace_back(endpoint.has_weight() ? endpoint.weight().value() : 1,
                             endpoint.priority());
      }
    } else {
      auto built = build(proto, path);
      if (!built.ok()) return built.status();
      (running == protos_.end() ? update->added : update->replaced).push_back(name);
      update->clusters_[name] = (*built)->cluster;
      update->built_[name] = std::move(*built);
    }
    update->protos_[name] = std::make_unique<config::v1::Cluster>(std::move(proto));
  }
  for (const auto& [name, cluster] : clusters_) {
    if (update->clusters_.count(name) == 0) update->removed.push_back(name);
  }
  return update;
}

void ClusterManager::commit(std::unique_ptr<Update> update) {
  // Retire the old machinery first: a stopped checker calls nobody back.
  for (const auto& name : update->removed) {
    runtimes_.erase(name);
    clusters_.erase(name);
    factories_.erase(name);
    protos_.erase(name);
  }
  for (const auto& name : update->replaced) runtimes_.erase(name);

  for (auto& [name, built] : update->built_) {
    clusters_[name] = built->cluster;
    factories_[name] = built->factory;
    runtimes_[name] = std::move(built->runtime);
    for (const auto& host : built->cluster->hosts()) {
      Endpoint& endpoint = Cluster::endpoint(*host);
      endpoint.healthy_gauge->Set(endpoint.healthy() ? 1 : 0);
    }
  }
  for (auto& [name, proto] : update->protos_) protos_[name] = std::move(proto);
  if (main_dispatcher_ == nullptr) return;  // start() publishes and starts everything

  for (auto& [name, built] : update->built_) {
    startRuntime(name);
    // startRuntime published a fresh factory when health checks run.
    if (publish_ && !runtimes_[name]->health_check.has_value())
      publish_(built->cluster, factories_[name]);
  }
  for (const auto& [name, weights] : update->weights_) {
    const auto& hosts = clusters_.at(name)->hosts();
    for (size_t i = 0; i < hosts.size() && i < weights.size(); ++i) {
      hosts[i]->weight = weights[i].first;
      hosts[i]->priority = weights[i].second;
    }
    onHostHealthChanged(name);  // rebuilds the factory with the new weights and publishes it
  }
  if (remove_) {
    for (const auto& name : update->removed) remove_(name);
  }
}

ClusterManager::~ClusterManager() {
  // Checkers and detectors call back into the runtimes: stop them first.
  for (auto& [name, runtime] : runtimes_) {
    runtime->checker.reset();
    runtime->detector.reset();
  }
}

HttpClient& ClusterManager::healthCheckClient(const Host& host) {
  const Endpoint& endpoint = Cluster::endpoint(host);
  auto it = health_clients_.find(endpoint.client_key);
  if (it == health_clients_.end()) {
    it = health_clients_
             .emplace(endpoint.client_key,
                      createEndpointClient(*main_dispatcher_, endpoint, *file_pool_))
             .first;
  }
  return *it->second;
}

void ClusterManager::start(event::Dispatcher& main_dispatcher, common::ThreadPool& file_pool) {
  main_dispatcher_ = &main_dispatcher;
  file_pool_ = &file_pool;
  for (auto& [name, runtime] : runtimes_) startRuntime(name);
}

void ClusterManager::startRuntime(const std::string& name) {
  Runtime& runtime = *runtimes_.at(name);
  ClusterSharedPtr cluster = clusters_.at(name);
  if (runtime.outlier_detection.has_value()) {
    runtime.detector =
        createOutlierDetector(*main_dispatcher_, *runtime.outlier_detection, runtime);
    for (const auto& host : cluster->hosts()) {
      Cluster::endpoint(*host).outlier = runtime.detector->addHost(host);
    }
  }
  if (runtime.health_check.has_value()) {
    runtime.checker = createHealthChecker(
        *main_dispatcher_, *runtime.health_check,
        [this](const Host& host) -> HttpClient& { return healthCheckClient(host); }, runtime);
    for (const auto& host : cluster->hosts()) {
      Endpoint& endpoint = Cluster::endpoint(*host);
      // Unhealthy until the first check passes (Envoy).
      endpoint.health_check_failed = !runtime.health_check->hosts_start_healthy;
      runtime.checker->addHost(HealthCheckEndpoint{host, endpoint.url, endpoint.health_check_path});
    }
    runtime.checker->start();
    onHostHealthChanged(name);
  }
}

void ClusterManager::Runtime::onHostHealthChanged(const HostSharedPtr& host, bool healthy) {
  Cluster::endpoint(*host).health_check_failed = !healthy;
  manager->onHostHealthChanged(cluster);
}

void ClusterManager::Runtime::onHostEjectionChanged(const HostSharedPtr& host, bool ejected) {
  Cluster::endpoint(*host).outlier_ejected = ejected;
  if (ejected && ejections != nullptr) ejections->Increment();
  manager->onHostHealthChanged(cluster);
}

ClusterSharedPtr ClusterManager::get(const std::string& name) const {
  auto it = clusters_.find(name);
  return it == clusters_.end() ? nullptr : it->second;
}

std::shared_ptr<const LoadBalancerFactory> ClusterManager::currentFactory(
    const std::string& name) const {
  auto it = factories_.find(name);
  return it == factories_.end() ? nullptr : it->second;
}

void ClusterManager::onHostHealthChanged(const std::string& name) {
  ClusterSharedPtr cluster = get(name);
  if (cluster == nullptr) return;
  for (const auto& host : cluster->hosts()) {
    const Endpoint& endpoint = Cluster::endpoint(*host);
    if (endpoint.healthy_gauge != nullptr) endpoint.healthy_gauge->Set(endpoint.healthy() ? 1 : 0);
  }
  auto factory = cluster->buildLoadBalancerFactory();
  if (factory == nullptr) return;
  factories_[name] = factory;
  if (publish_) publish_(cluster, factory);
}

namespace {
constexpr char kClusterKeyPrefix[] = "clusters.";
constexpr uint64_t kMaxRuntimeWeight = 128;  // as Endpoint.weight
std::string weightKey(const std::string& cluster, size_t index) {
  return absl::StrCat(kClusterKeyPrefix, cluster, ".endpoints.", index, ".weight");
}
}  // namespace

absl::Status ClusterManager::checkRuntime(const std::map<std::string, uint64_t>& runtime) const {
  for (auto it = runtime.lower_bound(std::string(kClusterKeyPrefix));
       it != runtime.end() && it->first.rfind(kClusterKeyPrefix, 0) == 0; ++it) {
    bool known = false;
    for (const auto& [name, cluster] : clusters_) {
      for (size_t i = 0; i < cluster->hosts().size() && !known; ++i) {
        known = it->first == weightKey(name, i);
      }
    }
    if (!known) {
      return absl::InvalidArgumentError(absl::StrCat(
          it->first, ": no such endpoint (clusters.<cluster>.endpoints.<index>.weight)"));
    }
    if (it->second < 1 || it->second > kMaxRuntimeWeight) {
      return absl::InvalidArgumentError(
          absl::StrCat(it->first, ": weight ", it->second, " out of range 1..", kMaxRuntimeWeight));
    }
  }
  return absl::OkStatus();
}

void ClusterManager::applyRuntime(const std::map<std::string, uint64_t>& runtime) {
  for (const auto& [name, cluster] : clusters_) {
    auto proto = protos_.find(name);
    bool changed = false;
    for (size_t i = 0; i < cluster->hosts().size(); ++i) {
      uint32_t weight = 1;
      if (proto != protos_.end() && static_cast<int>(i) < proto->second->endpoints_size() &&
          proto->second->endpoints(static_cast<int>(i)).has_weight()) {
        weight = proto->second->endpoints(static_cast<int>(i)).weight().value();
      }
      auto it = runtime.find(weightKey(name, i));
      if (it != runtime.end() && it->second >= 1 && it->second <= kMaxRuntimeWeight) {
        weight = static_cast<uint32_t>(it->second);
      }
      if (cluster->hosts()[i]->weight.load() != weight) {
        cluster->hosts()[i]->weight = weight;
        changed = true;
      }
    }
    if (changed) onHostHealthChanged(name);  // rebuilds the balancer factory and publishes it
  }
}

std::string ClusterManager::dumpClusters() const {
  std::string out;
  for (const auto& [name, cluster] : clusters_) {
    const auto& breakers = cluster->info().circuit_breakers;
    absl::StrAppend(&out, name, "::active_requests::", cluster->active_requests.load(), "\n");
    absl::StrAppend(&out, name, "::active_retries::", cluster->active_retries.load(), "\n");
    absl::StrAppend(&out, name, "::max_requests::", breakers.max_requests, "\n");
    const ConnectionLimits& limits = cluster->info().request_options.limits;
    absl::StrAppend(&out, name, "::cx_active::", limits.cluster_connections->count(), "\n");
    absl::StrAppend(&out, name, "::max_connections::", breakers.max_connections, "\n");
    absl::StrAppend(&out, name, "::rq_pending_active::", limits.pending_requests->count(), "\n");
    absl::StrAppend(&out, name, "::max_pending_requests::", breakers.max_pending_requests, "\n");
    for (const auto& host : cluster->hosts()) {
      const Endpoint& endpoint = Cluster::endpoint(*host);
      const std::string prefix = absl::StrCat(name, "::", host->name, "::");
      uint64_t total = 0, errors = 0;
      for (int c = 0; c < 6; ++c) {
        uint64_t n = static_cast<uint64_t>(endpoint.rq_by_class[c]->Value());
        total += n;
        if (c == 0 || c == 5) errors += n;
      }
      std::string flags;
      if (endpoint.health_check_failed) flags += "/failed_active_hc";
      if (endpoint.outlier_ejected) flags += "/failed_outlier_check";
      absl::StrAppend(&out, prefix, "url::", endpoint.url.scheme, "://", endpoint.url.authority(),
                      endpoint.url.path_prefix, "\n");
      absl::StrAppend(&out, prefix, "weight::", host->weight.load(), "\n");
      absl::StrAppend(&out, prefix, "priority::", host->priority.load(), "\n");
      absl::StrAppend(&out, prefix, "health_flags::", flags.empty() ? "healthy" : flags.substr(1),
                      "\n");
      absl::StrAppend(&out, prefix, "rq_active::", host->active_requests.load(), "\n");
      absl::StrAppend(&out, prefix, "cx_active::", endpoint.connections->count(), "\n");
      absl::StrAppend(&out, prefix, "rq_total::", total, "\n");
      absl::StrAppend(&out, prefix, "rq_error::", errors, "\n");
    }
  }
  return out;
}

void ThreadLocalClusters::update(const ClusterSharedPtr& cluster,
                                 const std::shared_ptr<const LoadBalancerFactory>& factory) {
  if (cluster == nullptr || factory == nullptr) return;
  Entry entry{cluster.get(), cluster, factory->create(seed_)};
  auto it = balancers_.find(cluster->name());
  if (it == balancers_.end()) {
    balancers_.emplace(cluster->name(), std::move(entry));
  } else {
    // A reload replaced the cluster: the old balancer serves what still
    // runs on the old config.
    if (it->second.cluster != cluster.get()) retire(std::move(it->second));
    it->second = std::move(entry);
  }
  sweep();
}

void ThreadLocalClusters::remove(const std::string& cluster) {
  auto it = balancers_.find(cluster);
  if (it != balancers_.end()) {
    retire(std::move(it->second));
    balancers_.erase(it);
  }
  sweep();
}

void ThreadLocalClusters::retire(Entry entry) { retired_.push_back(std::move(entry)); }

void ThreadLocalClusters::sweep() {
  std::erase_if(retired_, [](const Entry& entry) { return entry.alive.expired(); });
}

HostSharedPtr ThreadLocalClusters::chooseHost(const Cluster& cluster,
                                              LoadBalancerContext* context) {
  auto it = balancers_.find(cluster.name());
  if (it != balancers_.end() && it->second.cluster == &cluster) {
    return it->second.balancer == nullptr ? nullptr : it->second.balancer->chooseHost(context);
  }
  // The caller holds `cluster`, so a retired entry for its address that has
  // not expired is this very object, not one that reused the address.
  for (auto& entry : retired_) {
    if (entry.cluster == &cluster && !entry.alive.expired()) {
      return entry.balancer == nullptr ? nullptr : entry.balancer->chooseHost(context);
    }
  }
  if (it == balancers_.end() || it->second.balancer == nullptr) return nullptr;
  return it->second.balancer->chooseHost(context);
}

}  // namespace modgate::upstream
