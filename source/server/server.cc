#include "source/server/server.h"

#include <event2/event.h>
#include <signal.h>

#include <chrono>
#include <thread>

#include "absl/strings/str_cat.h"
#include "source/cache/disk_cache.h"
#include "source/common/common/logger.h"
#include "source/common/common/time.h"
#include "source/config/config_dump.h"
#include "source/router/route_table_builder.h"
#include "source/server/admin/query_params.h"
#include "source/upstream/http_client.h"

namespace modgate::server {
Server::Server(config::v1::Bootstrap bootstrap) : bootstrap_(std::move(bootstrap)) {}

Server::~Server() {
  // Workers first: their connections and fetches use the cache.
  for (auto& slot : workers_) {
    slot.worker->dispatcher().post([&slot] {
      slot.handler.reset();
      slot.context.reset();
    });
    slot.worker->stop();
  }
  workers_.clear();
  admin_handler_.reset();
  for (::event* ev : signal_events_) event_free(ev);
  inflight_.reset();
  cache_.reset();
  disk_pool_.reset();
}

absl::Status Server::initialize() {
  const auto& limits = bootstrap_.limits();
  auto& codec = connection_settings_.codec;
  if (limits.has_max_request_headers_kb()) {
    codec.max_request_headers_kb = limits.max_request_headers_kb().value();
  }
  if (limits.has_max_headers_count()) codec.max_headers_count = limits.max_headers_count().value();
  if (limits.has_max_concurrent_streams()) {
    codec.max_concurrent_streams = limits.max_concurrent_streams().value();
  }
  connection_settings_.idle_timeout =
      common::toMillisecondsOr(limits.idle_timeout(), std::chrono::seconds(60));
  connection_settings_.request_headers_timeout =
      common::toMillisecondsOr(limits.request_timeout(), std::chrono::seconds(10));
  admin_settings_ = connection_settings_;

  unsigned concurrency = bootstrap_.concurrency();
  if (concurrency == 0) concurrency = std::max(1u, std::thread::hardware_concurrency());
  disk_pool_ = std::make_unique<common::ThreadPool>("disk", std::max(2u, concurrency));

  const auto& cache_config = bootstrap_.cache();
  cache::DiskCacheOptions cache_options;
  cache_options.dir = cache_config.dir();
  if (cache_config.has_max_bytes()) cache_options.max_bytes = cache_config.max_bytes().value();
  if (cache_config.has_hot_object_max_bytes()) {
    cache_options.hot_object_max_bytes = cache_config.hot_object_max_bytes().value();
  }
  if (cache_config.has_hot_cache_max_bytes()) {
    cache_options.hot_total_max_bytes = cache_config.hot_cache_max_bytes().value();
  }
  auto cache = cache::DiskCache::open(cache_options, *disk_pool_);
  if (!cache.ok()) return cache.status();
  cache_ = std::move(*cache);
  inflight_ = std::make_unique<cache::InflightTable>();

  auto clusters = upstream::ClusterManager::create(bootstrap_, stats_);
  if (!clusters.ok()) return clusters.status();
  cluster_manager_ = std::move(*clusters);
  cluster_manager_->start(main_dispatcher_);
  runtime_.setStaticLayer({bootstrap_.runtime().begin(), bootstrap_.runtime().end()});
  canary_ = std::make_unique<CanaryManager>(main_dispatcher_, stats_, [this] {
    absl::Status status = publishRoutes();
    if (!status.ok()) LOG_ERROR("route table not updated: ", status.message());
  });
  canary_->update(bootstrap_);
  canary_->applyRuntime(runtime_.snapshot());
  auto routes = router::buildRouteTable(bootstrap_, cluster_manager_->clusters(), routeInputs());
  if (!routes.ok()) return routes.status();
  auto goproxy = std::make_shared<filters::goproxy::GoproxyConfig>();
  goproxy->routes = *routes;
  goproxy->cache = cache_.get();
  goproxy->inflight = inflight_.get();
  goproxy->stats = &stats_;
  goproxy->list_ttl = common::toMillisecondsOr(cache_config.list_ttl(), goproxy->list_ttl);
  goproxy->latest_ttl = common::toMillisecondsOr(cache_config.latest_ttl(), goproxy->latest_ttl);
  goproxy->negative_ttl =
      common::toMillisecondsOr(cache_config.negative_ttl(), goproxy->negative_ttl);
  goproxy->sumdb_latest_ttl =
      common::toMillisecondsOr(cache_config.sumdb_latest_ttl(), goproxy->sumdb_latest_ttl);
  goproxy->serve_stale = !cache_config.has_serve_stale() || cache_config.serve_stale().value();
  goproxy->stale_while_revalidate =
      cache_config.has_stale_while_revalidate()
          ? common::toMilliseconds(cache_config.stale_while_revalidate())  // 0 = off
          : goproxy->stale_while_revalidate;
  goproxy->offline = cache_config.offline();
  goproxy_config_ = goproxy;

  std::vector<network::Address> addresses;
  for (int i = 0; i < bootstrap_.listeners_size(); ++i) {
    auto address = network::parseAddress(bootstrap_.listeners(i).address());
    if (!address.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat("listeners[", i, "].address: ", address.status().message()));
    }
    addresses.push_back(*address);
  }

  for (unsigned i = 0; i < concurrency; ++i) {
    WorkerSlot slot;
    slot.worker = std::make_unique<Worker>(absl::StrCat("worker_", i));
    event::Dispatcher& dispatcher = slot.worker->dispatcher();
    slot.context = std::make_unique<filters::goproxy::WorkerContext>(dispatcher, i + 1);
    for (const auto& [name, cluster] : cluster_manager_->clusters()) {
      slot.context->clusters().update(cluster, cluster_manager_->currentFactory(name));
    }
    slot.filters =
        std::make_unique<filters::goproxy::GoproxyFilterFactory>(goproxy_config_, *slot.context);
    slot.handler = std::make_unique<ConnectionHandler>(
        dispatcher, *slot.filters, connection_settings_, &stats_, &downstream_connections_,
        bootstrap_.limits().max_connections());
    for (auto address : addresses) {
      // With port 0, every worker must share the port the first one got.
      if (i > 0 && address.toString().ends_with(":0")) {
        address = workers_[0].handler->listenerAddress(&address - &addresses[0]);
      }
      absl::Status status = slot.handler->addListener(address);
      if (!status.ok()) return status;
    }
    workers_.push_back(std::move(slot));
  }

  // Health changes reach every worker as a new balancer factory.
  cluster_manager_->setPublisher(
      [this](const upstream::ClusterSharedPtr& cluster,
             std::shared_ptr<const upstream::LoadBalancerFactory> factory) {
        for (auto& slot : workers_) {
          filters::goproxy::WorkerContext* context = slot.context.get();
          slot.worker->dispatcher().post(
              [context, cluster, factory] { context->clusters().update(cluster, factory); });
        }
      },
      [this](const std::string& name) {
        for (auto& slot : workers_) {
          filters::goproxy::WorkerContext* context = slot.context.get();
          slot.worker->dispatcher().post([context, name] { context->clusters().remove(name); });
        }
      });

  auto admin_address = network::parseAddress(bootstrap_.admin().address());
  if (!admin_address.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("admin.address: ", admin_address.status().message()));
  }
  admin_handler_ =
      std::make_unique<ConnectionHandler>(main_dispatcher_, admin_, admin_settings_, nullptr);
  absl::Status status = admin_handler_->addListener(*admin_address);
  if (!status.ok()) return status;
  registerAdminHandlers();

  for (int sig : {SIGTERM, SIGINT}) {
    ::event* ev = evsignal_new(&main_dispatcher_.base(), sig, &Server::onSignal, this);
    evsignal_add(ev, nullptr);
    signal_events_.push_back(ev);
  }
  signal(SIGPIPE, SIG_IGN);
  loaded_at_unix_ms_ = common::wallClockUnixMs();
  for (auto& slot : workers_) slot.worker->start();
  ready_ = true;
  LOG_INFO("modgate listening on ", listenerAddress(), " (admin ", adminAddress(), ", ",
           concurrency, " workers, cache ", cache_options.dir, ")");
  return absl::OkStatus();
}

std::string Server::listenerAddress() const {
  if (workers_.empty()) return "";
  return workers_[0].handler->listenerAddress(0).toString();
}

std::string Server::adminAddress() const {
  return admin_handler_ == nullptr ? "" : admin_handler_->listenerAddress(0).toString();
}

router::RouteInputs Server::routeInputs() const {
  router::RouteInputs inputs;
  inputs.runtime = runtime_.snapshot();
  canary_->fillRouteInputs(inputs);
  return inputs;
}

absl::Status Server::publishRoutes() {
  auto routes = router::buildRouteTable(bootstrap_, cluster_manager_->clusters(), routeInputs());
  if (!routes.ok()) return routes.status();
  auto next = std::make_shared<filters::goproxy::GoproxyConfig>(*goproxy_config_);
  next->routes = *routes;
  goproxy_config_ = next;
  for (auto& slot : workers_) {
    filters::goproxy::GoproxyFilterFactory* filters = slot.filters.get();
    slot.worker->dispatcher().post([filters, next] { filters->setConfig(next); });
  }
  return absl::OkStatus();
}

void Server::registerCanaryHandlers() {
  admin_.addHandler("/runtime", "runtime values: static layer, overrides, effective", false,
                    [this](std::string_view) {
                      return Admin::Response{200, "application/json", runtime_.toJson()};
                    });
  admin_.addHandler(
      "/runtime", "set runtime overrides: ?key=value (empty value removes the override)", true,
      [this](std::string_view query) {
        auto pairs = parseQuery(query);
        if (pairs.empty()) {
          return Admin::Response{400, "text/plain; charset=utf-8",
                                 "usage: POST /runtime?key=value\n"};
        }
        // All or nothing: check every pair before changing any.
        Runtime trial = runtime_;
        for (const auto& [key, value] : pairs) {
          absl::Status status = trial.setOverride(key, value);
          if (!status.ok()) {
            return Admin::Response{400, "text/plain; charset=utf-8",
                                   std::string(status.message()) + "\n"};
          }
        }
        if (absl::Status status = canary_->checkRuntime(trial.snapshot()); !status.ok()) {
          return Admin::Response{400, "text/plain; charset=utf-8",
                                 std::string(status.message()) + "\n"};
        }
        runtime_ = std::move(trial);
        canary_->applyRuntime(runtime_.snapshot());
        absl::Status status = publishRoutes();
        if (!status.ok()) {
          return Admin::Response{500, "text/plain; charset=utf-8",
                                 std::string(status.message()) + "\n"};
        }
        LOG_INFO("runtime overrides changed: ", std::string(query));
        return Admin::Response{200, "application/json", runtime_.toJson()};
      });
  admin_.addHandler("/rollouts", "canary rollouts: state, stage, gates, history", false,
                    [this](std::string_view) { return canary_->rolloutsJson(); });
  for (const char* op : {"pause", "resume", "advance", "abort", "restart"}) {
    admin_.addHandler(absl::StrCat("/rollout/", op),
                      absl::StrCat(op, " a rollout: ?route=NAME[&reason=TEXT]"), true,
                      [this, op](std::string_view query) { return canary_->control(op, query); });
  }
}

void Server::registerAdminHandlers() {
  registerCanaryHandlers();
  admin_.addHandler("/ready", "200 when serving, 503 while starting or draining", false,
                    [this](std::string_view) {
                      if (ready_ && !draining_ && !health_failed_) {
                        return Admin::Response{200, "text/plain; charset=utf-8", "LIVE\n"};
                      }
                      return Admin::Response{503, "text/plain; charset=utf-8",
                                             draining_ ? "DRAINING\n" : "NOT READY\n"};
                    });
  admin_.addHandler(
      "/stats/prometheus", "metrics in the Prometheus text format", false,
      [this](std::string_view) {
        cache::CacheStats cache_stats = cache_->stats();
        stats_.cache_bytes->Set(static_cast<double>(cache_stats.bytes));
        stats_.cache_entries->Set(static_cast<double>(cache_stats.entries));
        // The cache counts evictions itself; catch the counter up.
        double evicted = static_cast<double>(cache_stats.evictions);
        if (evicted > stats_.cache_evictions->Value()) {
          stats_.cache_evictions->Increment(evicted - stats_.cache_evictions->Value());
        }
        return Admin::Response{200, "text/plain; version=0.0.4; charset=utf-8",
                               stats_.renderPrometheus()};
      });
  admin_.addHandler(
      "/config_dump", "the running configuration (secrets redacted)", false,
      [this](std::string_view) {
        return Admin::Response{
            200, "application/json",
            absl::StrCat("{\"version_info\":\"static\",\"loaded_at_unix_ms\":", loaded_at_unix_ms_,
                         ",\"bootstrap\":", config::DumpJson(bootstrap_), "}\n")};
      });
  admin_.addHandler(
      "/clusters", "upstream clusters: hosts, weights, health, requests", false,
      [this](std::string_view) {
        return Admin::Response{200, "text/plain; charset=utf-8", cluster_manager_->dumpClusters()};
      });
  admin_.addHandler("/healthcheck/fail", "fail /ready (take this instance out of rotation)", true,
                    [this](std::string_view) {
                      health_failed_ = true;
                      return Admin::Response{200, "text/plain; charset=utf-8", "OK\n"};
                    });
  admin_.addHandler("/healthcheck/ok", "undo /healthcheck/fail", true, [this](std::string_view) {
    health_failed_ = false;
    return Admin::Response{200, "text/plain; charset=utf-8", "OK\n"};
  });
  admin_.addHandler("/drain_listeners", "stop accepting, finish requests in flight", true,
                    [this](std::string_view) {
                      startDrain();
                      return Admin::Response{200, "text/plain; charset=utf-8", "OK\n"};
                    });
  admin_.addHandler("/quitquitquit", "drain and exit", true, [this](std::string_view) {
    shutdown();
    return Admin::Response{200, "text/plain; charset=utf-8", "OK\n"};
  });
}

void Server::run() { main_dispatcher_.run(); }

void Server::shutdown() {
  main_dispatcher_.post([this] {
    startDrain();
    if (!drain_timer_) drain_timer_ = main_dispatcher_.createTimer([this] { onDrainTick(); });
    drain_timer_->enableTimer(std::chrono::milliseconds(50));
  });
}

void Server::startDrain() {
  if (draining_) return;
  draining_ = true;
  drain_deadline_ = main_dispatcher_.now() + connection_settings_.drain_timeout;
  LOG_INFO("draining: readiness fails, listeners close, requests in flight finish");
  for (auto& slot : workers_) {
    ConnectionHandler* handler = slot.handler.get();
    slot.worker->dispatcher().post([handler] { handler->drain(); });
  }
}

void Server::onDrainTick() {
  // Exit once every worker is idle, or at the drain deadline. Each worker
  // counts its own connections and fetches and reports back here.
  struct Tally {
    size_t busy = 0;
    size_t replies = 0;
  };
  auto tally = std::make_shared<Tally>();
  const size_t workers = workers_.size();
  auto decide = [this, tally, workers] {
    if (tally->replies < workers) return;
    if (tally->busy == 0 || main_dispatcher_.now() >= drain_deadline_) {
      LOG_INFO("drained; exiting");
      main_dispatcher_.exit();
    } else {
      drain_timer_->enableTimer(std::chrono::milliseconds(50));
    }
  };
  if (workers == 0) return decide();
  for (auto& slot : workers_) {
    ConnectionHandler* handler = slot.handler.get();
    filters::goproxy::WorkerContext* context = slot.context.get();
    slot.worker->dispatcher().post([this, handler, context, tally, decide] {
      size_t busy = handler->connectionCount() + context->activeFetches();
      main_dispatcher_.post([tally, busy, decide] {
        tally->busy += busy;
        ++tally->replies;
        decide();
      });
    });
  }
}

void Server::onSignal(int signal, short, void* arg) {
  auto* self = static_cast<Server*>(arg);
  LOG_INFO("signal ", signal, " received");
  if (self->draining_) {
    // A second signal means now.
    self->main_dispatcher_.exit();
    return;
  }
  self->shutdown();
}

}  // namespace modgate::server
