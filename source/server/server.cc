#include "source/server/server.h"

#include <event2/event.h>
#include <signal.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <optional>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/time.h"
#include "source/admin/query_params.h"
#include "source/cache/disk_cache.h"
#include "source/common/common/logger.h"
#include "source/common/common/time.h"
#include "source/common/common/version.h"
#include "source/common/json/proto_json.h"
#include "source/config/config_dump.h"
#include "source/config/defaults.h"
#include "source/config/dynamic_config.h"
#include "source/config/error_list.h"
#include "source/config/loader.h"
#include "source/config/yaml_to_json.h"
#include "source/filters/goproxy/cache_verifier.h"
#include "source/router/route_table_builder.h"
#include "source/server/cache_admin.h"
#include "source/server/listener_diff.h"
#include "source/server/restart_fields.h"
#include "source/sumdb/note.h"
#include "source/upstream/http_client.h"

namespace modgate::server {

using admin::parseQuery;
namespace {

// The process's open-file limit (main raised the soft limit to the hard
// one), or nullopt when it is infinite or unreadable. It is shared out
// below: a quarter to open cache files, half to client connections, the
// rest to upstream connections, the admin port and the disk threads.
std::optional<uint64_t> descriptorLimit() {
  rlimit files;
  if (getrlimit(RLIMIT_NOFILE, &files) != 0 || files.rlim_cur == RLIM_INFINITY) {
    return std::nullopt;
  }
  return files.rlim_cur;
}

// How many cache files each worker keeps open (nginx's open_file_cache
// max=). A warm hit on a file that is not open costs a round trip through
// the disk thread pool; at 256 per worker the 64 KiB zip benchmark (1000
// modules, tools/bench) missed on every request.
size_t openFileCapacity(std::optional<uint64_t> limit, unsigned workers) {
  return std::clamp<uint64_t>(limit.value_or(1024) / 4 / std::max(workers, 1u), 64, 16384);
}

// limits.max_connections when the config leaves it 0: half the descriptor
// limit, 0 (no cap) when the limit is infinite.
uint64_t maxDownstreamConnections(std::optional<uint64_t> limit, uint32_t configured) {
  if (configured != 0) return configured;
  if (!limit.has_value()) return 0;
  return std::max<uint64_t>(*limit / 2, 1);
}

std::string timeText(int64_t unix_ms);

}  // namespace

Server::Server(config::v1::Bootstrap bootstrap) : bootstrap_(std::move(bootstrap)) {}

Server::~Server() {
  // Workers first: their connections and fetches use the cache.
  for (auto& slot : workers_) {
    slot.worker->dispatcher().post([&slot] {
      slot.handler.reset();
      slot.chain.reset();
      slot.access_log.reset();  // flushes its buffers
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

void Server::setConfigSource(std::unique_ptr<ConfigSource> source, std::string sha256_hex,
                             bool watch) {
  config_source_ = std::move(source);
  config_sha256_ = std::move(sha256_hex);
  last_attempted_sha256_ = config_sha256_;
  watch_config_ = watch;
}

absl::Status Server::initialize() {
  if (bootstrap_.has_control_plane() && config_source_ != nullptr) restoreDynamicConfig();
  const auto& limits = bootstrap_.limits();
  auto& codec = connection_settings_.codec;
  if (limits.has_max_request_headers_kb()) {
    codec.max_request_headers_kb = limits.max_request_headers_kb().value();
  }
  if (limits.has_max_headers_count()) codec.max_headers_count = limits.max_headers_count().value();
  if (limits.has_max_concurrent_streams()) {
    codec.max_concurrent_streams = limits.max_concurrent_streams().value();
  }
  connection_settings_.protocol_counters = &protocol_counters_;
  connection_settings_.idle_timeout =
      common::toMillisecondsOr(limits.idle_timeout(), std::chrono::seconds(60));
  connection_settings_.request_headers_timeout =
      common::toMillisecondsOr(limits.request_timeout(), std::chrono::seconds(10));
  connection_settings_.send_timeout =
      limits.has_send_timeout()
          ? common::toMilliseconds(limits.send_timeout())
          : std::chrono::milliseconds(std::chrono::seconds(config::kDefaultSendTimeoutSeconds));
  codec.max_pipelined_requests = limits.has_max_pipelined_requests()
                                     ? limits.max_pipelined_requests().value()
                                     : config::kDefaultMaxPipelinedRequests;
  const auto& http2 = limits.http2();
  const auto or_default = [](bool has, const google::protobuf::UInt32Value& field, uint32_t value) {
    return has ? field.value() : value;
  };
  codec.http2_max_outbound_control_frames =
      or_default(http2.has_max_outbound_control_frames(), http2.max_outbound_control_frames(),
                 config::kDefaultHttp2MaxOutboundControlFrames);
  codec.http2_max_settings_entries =
      or_default(http2.has_max_settings_entries(), http2.max_settings_entries(),
                 config::kDefaultHttp2MaxSettingsEntries);
  codec.http2_max_continuation_frames =
      or_default(http2.has_max_continuation_frames(), http2.max_continuation_frames(),
                 config::kDefaultHttp2MaxContinuationFrames);
  codec.http2_stream_reset_burst =
      or_default(http2.has_stream_reset_burst(), http2.stream_reset_burst(),
                 config::kDefaultHttp2StreamResetBurst);
  codec.http2_stream_resets_per_second =
      or_default(http2.has_stream_resets_per_second(), http2.stream_resets_per_second(),
                 config::kDefaultHttp2StreamResetsPerSecond);
  connection_settings_.drain_timeout = common::toMillisecondsOr(
      limits.drain_timeout(), std::chrono::seconds(config::kDefaultDrainTimeoutSeconds));
  admin_settings_ = connection_settings_;
  admin_settings_.protocol_counters = nullptr;  // the metrics count client traffic only

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
  cluster_manager_->start(main_dispatcher_, *disk_pool_);
  runtime_.setStaticLayer({bootstrap_.runtime().begin(), bootstrap_.runtime().end()});
  cluster_manager_->applyRuntime(runtime_.snapshot());
  canary_ = std::make_unique<CanaryManager>(main_dispatcher_, stats_, [this] {
    absl::Status status = publishRoutes();
    if (!status.ok()) LOG_ERROR("route table not updated: ", status.message());
  });
  canary_->update(bootstrap_);
  canary_->applyRuntime(runtime_.snapshot());
  auto goproxy = buildGoproxyConfig(bootstrap_, cluster_manager_->clusters(), routeInputs());
  if (!goproxy.ok()) return goproxy.status();
  goproxy_config_ = *goproxy;
  auto access_logs = openAccessLogs(bootstrap_);
  if (!access_logs.ok()) return access_logs.status();
  access_logs_ = *access_logs;

  if (limits.max_connections_per_client() > 0 || limits.requests_per_second_per_client() > 0) {
    client_counters_ = std::make_unique<common::ClientCounters>();
  }
  const std::optional<uint64_t> descriptors = descriptorLimit();
  const size_t open_files_per_worker = openFileCapacity(descriptors, concurrency);
  const uint64_t max_connections = maxDownstreamConnections(descriptors, limits.max_connections());
  for (unsigned i = 0; i < concurrency; ++i) {
    WorkerSlot slot;
    slot.worker = std::make_unique<Worker>(absl::StrCat("worker_", i));
    event::Dispatcher& dispatcher = slot.worker->dispatcher();
    slot.context = std::make_unique<filters::goproxy::WorkerContext>(
        dispatcher, *disk_pool_, i + 1, open_files_per_worker, &stats_);
    for (const auto& [name, cluster] : cluster_manager_->clusters()) {
      slot.context->clusters().update(cluster, cluster_manager_->currentFactory(name));
    }
    slot.filters =
        std::make_unique<filters::goproxy::GoproxyFilterFactory>(goproxy_config_, *slot.context);
    slot.access_log = std::make_unique<filters::access_log::WorkerAccessLog>(dispatcher);
    slot.access_log->setConfig(access_logs_);
    slot.latency = std::make_unique<stats::RequestLatency>();
    stats_.addWorkerLatency(slot.latency.get());
    slot.chain =
        std::make_unique<WorkerFilterChain>(*slot.latency, *slot.access_log, *slot.filters);
    slot.handler =
        std::make_unique<ConnectionHandler>(dispatcher, *slot.chain, connection_settings_, &stats_,
                                            &downstream_connections_, max_connections);
    slot.chain->setRateLimit(client_counters_.get(), limits.requests_per_second_per_client());
    slot.handler->setPerClientConnectionLimit(client_counters_.get(),
                                              limits.max_connections_per_client());
    workers_.push_back(std::move(slot));
  }
  security_ = std::make_unique<SecurityFilters>(
      main_dispatcher_, [this](const SecurityFilters::Snapshot& snapshot) {
        for (auto& slot : workers_) {
          WorkerFilterChain* chain = slot.chain.get();
          auto set = [chain, snapshot] { chain->setSecurity(snapshot.auth, snapshot.policy); };
          if (workers_started_) {
            slot.worker->dispatcher().post(std::move(set));
          } else {
            set();
          }
        }
      });
  auto security = security_->prepare(bootstrap_);
  if (!security.ok()) return security.status();
  security_->commit(bootstrap_, std::move(*security));
  tls_listeners_ = std::make_unique<TlsListeners>(main_dispatcher_);
  auto tls_contexts = tls_listeners_->prepare(bootstrap_.listeners());
  if (!tls_contexts.ok()) return tls_contexts.status();
  tls_listeners_->commit(bootstrap_.listeners(), std::move(*tls_contexts));
  for (int i = 0; i < bootstrap_.listeners_size(); ++i) {
    const auto& listener = bootstrap_.listeners(i);
    auto sockets = bindListener(listener, i);
    if (!sockets.ok()) return sockets.status();
    addListenerToWorkers(listener.name(), std::move(*sockets));
  }

  // Health changes and reloads reach every worker as new balancer
  // factories; removed clusters as a name to drop.
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
  absl::Status status = admin_handler_->addListener(*admin_address, "admin");
  if (!status.ok()) return status;
  registerAdminHandlers();

  for (int sig : {SIGTERM, SIGINT}) {
    ::event* ev = evsignal_new(&main_dispatcher_.base(), sig, &Server::onSignal, this);
    evsignal_add(ev, nullptr);
    signal_events_.push_back(ev);
  }
  ::event* hup = evsignal_new(&main_dispatcher_.base(), SIGHUP, &Server::onReloadSignal, this);
  evsignal_add(hup, nullptr);
  signal_events_.push_back(hup);
  ::event* usr1 = evsignal_new(&main_dispatcher_.base(), SIGUSR1, &Server::onReopenSignal, this);
  evsignal_add(usr1, nullptr);
  signal_events_.push_back(usr1);
  signal(SIGPIPE, SIG_IGN);

  if (watch_config_ && config_source_ != nullptr && !config_source_->path().empty()) {
    auto watcher = ConfigWatcher::create(main_dispatcher_, config_source_->path(),
                                         [this] { onConfigFileChanged(); });
    // Reloading by SIGHUP or /reload still works; say why the file is not
    // followed rather than refuse to start.
    if (!watcher.ok()) {
      LOG_WARN("config file changes are not followed: ", std::string(watcher.status().message()));
    } else {
      config_watcher_ = std::move(*watcher);
    }
  }

  loaded_at_unix_ms_ = common::wallClockUnixMs();
  started_at_unix_ms_ = loaded_at_unix_ms_;
  for (auto& slot : workers_) slot.worker->start();
  workers_started_ = true;
  if (bootstrap_.has_control_plane()) {
    xds_ = std::make_unique<config::xds::XdsClient>(
        main_dispatcher_, bootstrap_, dynamic_,
        [this](const config::v1::DynamicConfig& dynamic) {
          return applyDynamicConfig(dynamic, "control plane push").status();
        },
        stats_.registry());
    xds_->setReportSource(
        [this](service::fleet::v1::Report& report) { canary_->fillReport(report); });
    if (!dynamic_.has_value()) {
      awaiting_control_plane_ = true;
      const auto timeout =
          common::toMilliseconds(bootstrap_.control_plane().initial_fetch_timeout());
      if (timeout.count() > 0) {
        initial_fetch_timer_ = main_dispatcher_.createTimer([this, timeout] {
          if (!awaiting_control_plane_.exchange(false)) return;
          LOG_WARN("no config from the control plane within ", timeout.count(),
                   " ms (control_plane.initial_fetch_timeout): ready on the local file alone");
        });
        initial_fetch_timer_->enableTimer(timeout);
      }
    }
    xds_->start();
  }
  ready_ = true;
  LOG_INFO("modgate listening on ", listenerAddress(), " (admin ", adminAddress(), ", ",
           concurrency, " workers, cache ", cache_options.dir, ", config ", configVersion(), ")");
  return absl::OkStatus();
}

absl::StatusOr<filters::goproxy::GoproxyConfigSharedPtr> Server::buildGoproxyConfig(
    const config::v1::Bootstrap& bootstrap,
    const std::map<std::string, upstream::ClusterSharedPtr>& clusters,
    const router::RouteInputs& inputs) {
  auto routes = router::buildRouteTable(bootstrap, clusters, inputs);
  if (!routes.ok()) return routes.status();
  const auto& cache_config = bootstrap.cache();
  auto goproxy = std::make_shared<filters::goproxy::GoproxyConfig>();
  goproxy->routes = *routes;
  goproxy->cache = cache_.get();
  goproxy->inflight = inflight_.get();
  goproxy->stats = &stats_;
  // An explicit 0 means "always revalidate": 1 ms makes an entry stale at
  // once, where a 0 expiry would mark it immutable.
  auto ttl = [](bool has, const google::protobuf::Duration& value,
                std::chrono::milliseconds fallback) {
    return has ? std::max(std::chrono::milliseconds(1), common::toMilliseconds(value)) : fallback;
  };
  goproxy->list_ttl = ttl(cache_config.has_list_ttl(), cache_config.list_ttl(), goproxy->list_ttl);
  goproxy->latest_ttl =
      ttl(cache_config.has_latest_ttl(), cache_config.latest_ttl(), goproxy->latest_ttl);
  goproxy->sumdb_latest_ttl = ttl(cache_config.has_sumdb_latest_ttl(),
                                  cache_config.sumdb_latest_ttl(), goproxy->sumdb_latest_ttl);
  // 0 disables negative caching (CacheFillSink stores no 404/410).
  goproxy->negative_ttl = cache_config.has_negative_ttl()
                              ? common::toMilliseconds(cache_config.negative_ttl())
                              : goproxy->negative_ttl;
  goproxy->serve_stale = !cache_config.has_serve_stale() || cache_config.serve_stale().value();
  goproxy->stale_while_revalidate =
      cache_config.has_stale_while_revalidate()
          ? common::toMilliseconds(cache_config.stale_while_revalidate())  // 0 = off
          : goproxy->stale_while_revalidate;
  goproxy->offline = cache_config.offline();
  for (const auto& db : bootstrap.sumdbs()) {
    if (db.key().empty()) continue;
    auto verifier = sumdb::NoteVerifier::Parse(db.key());
    if (!verifier.ok()) return verifier.status();  // the validator said so first
    auto verification = std::make_shared<filters::goproxy::ModuleVerification>();
    verification->sumdb = db.name();
    verification->verifier = *std::move(verifier);
    verification->nosum = bootstrap.nosum();
    verification->stream_zips = db.stream_while_verifying();
    goproxy->verification = std::move(verification);
  }
  goproxy->hash_pool = disk_pool_.get();
  return filters::goproxy::GoproxyConfigSharedPtr(std::move(goproxy));
}

absl::StatusOr<filters::access_log::AccessLogConfigSharedPtr> Server::openAccessLogs(
    const config::v1::Bootstrap& bootstrap) {
  auto config = std::make_shared<filters::access_log::AccessLogConfig>();
  std::map<std::string, access_log::AccessLogFileSharedPtr> by_path;
  if (access_logs_ != nullptr) {
    for (const auto& [name, log] : *access_logs_) by_path[log.file->path()] = log.file;
  }
  std::map<std::string, access_log::AccessLogFileSharedPtr> used;
  for (int i = 0; i < bootstrap.listeners_size(); ++i) {
    const config::v1::Listener& listener = bootstrap.listeners(i);
    if (!listener.has_access_log()) continue;
    const config::v1::AccessLog& spec = listener.access_log();
    access_log::AccessLogFileSharedPtr& file = used[spec.path()];
    if (file == nullptr) {
      auto existing = by_path.find(spec.path());
      if (existing != by_path.end()) {
        file = existing->second;
        file->reopen();
      } else {
        const uint64_t max_pending =
            spec.has_max_pending_bytes() ? spec.max_pending_bytes().value() : 4 << 20;
        auto opened = access_log::AccessLogFile::open(spec.path(), max_pending, access_log_totals_);
        if (!opened.ok()) {
          return absl::InvalidArgumentError(
              absl::StrCat("listeners[", i, "].access_log.path: ", opened.status().message()));
        }
        file = *opened;
      }
    }
    filters::access_log::ListenerLog& log = (*config)[listener.name()];
    log.file = file;
    log.sample_percent = spec.has_sample_percent() ? spec.sample_percent().value() : 100;
    log.errors_and_misses_only = spec.errors_and_misses_only();
  }
  return filters::access_log::AccessLogConfigSharedPtr(std::move(config));
}

void Server::publishAccessLogs(filters::access_log::AccessLogConfigSharedPtr config) {
  access_logs_ = config;
  for (auto& slot : workers_) {
    filters::access_log::WorkerAccessLog* log = slot.access_log.get();
    slot.worker->dispatcher().post([log, config] { log->setConfig(config); });
  }
}

void Server::onReopenSignal(int, short, void* arg) {
  auto* self = static_cast<Server*>(arg);
  if (self->access_logs_ == nullptr) return;
  LOG_INFO("SIGUSR1 received: reopening the access logs");
  for (const auto& [name, log] : *self->access_logs_) log.file->reopen();
}

void Server::publishGoproxyConfig(filters::goproxy::GoproxyConfigSharedPtr config) {
  goproxy_config_ = config;
  for (auto& slot : workers_) {
    filters::goproxy::GoproxyFilterFactory* filters = slot.filters.get();
    slot.worker->dispatcher().post([filters, config] { filters->setConfig(config); });
  }
}

absl::StatusOr<std::vector<network::ListenSocketPtr>> Server::bindListener(
    const config::v1::Listener& listener, size_t index) {
  auto address = network::parseAddress(listener.address());
  if (!address.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("listeners[", index, "].address: ", address.status().message()));
  }
  std::vector<network::ListenSocketPtr> sockets;
  network::Address next = *address;
  for (size_t i = 0; i < workers_.size(); ++i) {
    auto socket = network::ListenSocket::bind(next);
    if (!socket.ok()) {  // the bound ones close
      return absl::UnavailableError(
          absl::StrCat("listeners[", index, "].address: ", socket.status().message()));
    }
    // With port 0, every worker must share the port the first one got.
    if (i == 0) next = (*socket)->localAddress();
    sockets.push_back(std::move(*socket));
  }
  return sockets;
}

void Server::addListenerToWorkers(const std::string& name,
                                  std::vector<network::ListenSocketPtr> sockets) {
  if (!sockets.empty()) bound_listeners_[name] = sockets[0]->localAddress();
  tls::ServerContextSlotSharedPtr tls_slot = tls_listeners_->slot(name);
  for (size_t i = 0; i < workers_.size() && i < sockets.size(); ++i) {
    ConnectionHandler* handler = workers_[i].handler.get();
    auto socket = std::make_shared<network::ListenSocketPtr>(std::move(sockets[i]));
    auto add = [handler, socket, name, tls_slot] {
      absl::Status status = handler->addListener(std::move(*socket), name, tls_slot);
      if (!status.ok()) LOG_ERROR("listener ", name, ": ", std::string(status.message()));
    };
    if (workers_started_) {
      workers_[i].worker->dispatcher().post(std::move(add));
    } else {
      add();
    }
  }
}

std::string Server::configVersion() const {
  return absl::StrCat(
      reload_sequence_, "-",
      config_sha256_.empty() ? std::string("static") : config_sha256_.substr(0, 12));
}

absl::StatusOr<std::string> Server::reload(std::string_view trigger) {
  return reloadWith(std::string(trigger), dynamic_.has_value() ? &*dynamic_ : nullptr);
}

absl::StatusOr<std::string> Server::applyDynamicConfig(config::v1::DynamicConfig dynamic,
                                                       std::string_view trigger) {
  if (!bootstrap_.has_control_plane()) {
    return absl::FailedPreconditionError("control_plane: not configured");
  }
  dynamic.set_acked_at_unix_ms(common::wallClockUnixMs());
  auto version = reloadWith(std::string(trigger), &dynamic);
  if (!version.ok()) return version;
  dynamic_ = std::move(dynamic);
  dynamic_restored_ = false;
  awaiting_control_plane_ = false;
  if (initial_fetch_timer_ != nullptr) initial_fetch_timer_->disableTimer();
  const std::string path = config::DynamicConfigPath(bootstrap_.cache().dir());
  if (absl::Status saved = config::SaveDynamicConfig(path, *dynamic_); !saved.ok()) {
    // Serving goes on; only a restart while the control plane is down
    // would miss it.
    LOG_WARN("cannot persist the control plane's config: ", std::string(saved.message()));
  }
  return version;
}

void Server::restoreDynamicConfig() {
  const std::string path = config::DynamicConfigPath(bootstrap_.cache().dir());
  auto saved = config::LoadDynamicConfig(path);
  if (!saved.ok()) {
    LOG_WARN("ignoring the persisted control plane config: ",
             std::string(saved.status().message()));
    return;
  }
  if (!saved->has_value()) return;
  auto loaded = config_source_->load(&**saved);
  if (!loaded.ok()) {
    // The local file changed in a way the old push does not fit: start on
    // the file alone and wait for the control plane.
    LOG_WARN("the persisted control plane config (", path,
             ") does not apply over the local file; starting without it:\n",
             std::string(loaded.status().message()));
    return;
  }
  bootstrap_ = std::move(loaded->bootstrap);
  dynamic_ = std::move(**saved);
  dynamic_restored_ = true;
  config_sha256_ =
      sha256Hex(absl::StrCat(loaded->sha256_hex, config::DeterministicBytes(*dynamic_)));
  LOG_INFO("serving the control plane config last ACKed at ",
           timeText(dynamic_->acked_at_unix_ms()), " from ", dynamic_->source_url(), " (", path,
           ") until the control plane answers");
}

absl::StatusOr<std::string> Server::reloadWith(const std::string& trigger,
                                               const config::v1::DynamicConfig* dynamic) {
  auto failed = [&](absl::Status status, const std::string& sha256) -> absl::Status {
    stats_.config_reload_failure->Increment();
    last_failed_reload_ =
        FailedReload{std::string(status.message()), common::wallClockUnixMs(), sha256};
    LOG_ERROR("config reload (", trigger, ") rejected; still running ", configVersion(), ":\n",
              std::string(status.message()));
    return status;
  };
  if (config_source_ == nullptr || config_source_->path().empty()) {
    return failed(absl::FailedPreconditionError(
                      "no config file to reload: modgate runs the built-in config (start it "
                      "with -c FILE to reload)"),
                  "");
  }
  auto loaded = config_source_->load(dynamic);
  if (!loaded.ok()) return failed(loaded.status(), "");
  last_attempted_sha256_ = loaded->sha256_hex;
  absl::Status status = applyConfig(loaded->bootstrap);
  if (!status.ok()) {
    return failed(config::PrefixLines(status, config_source_->path()), loaded->sha256_hex);
  }
  bootstrap_ = std::move(loaded->bootstrap);
  // The version covers both parts: the file's bytes and the pushed ones.
  config_sha256_ =
      dynamic == nullptr
          ? loaded->sha256_hex
          : sha256Hex(absl::StrCat(loaded->sha256_hex, config::DeterministicBytes(*dynamic)));
  ++reload_sequence_;
  loaded_at_unix_ms_ = common::wallClockUnixMs();
  stats_.config_reload_success->Increment();
  LOG_INFO("config reload (", trigger, "): now running ", configVersion());
  return configVersion();
}

absl::Status Server::applyConfig(const config::v1::Bootstrap& next) {
  // 1. Everything that can fail, with nothing running touched.
  if (absl::Status status = checkRestartOnlyFields(bootstrap_, next); !status.ok()) return status;
  if (draining_) return absl::FailedPreconditionError("draining: no reloads while shutting down");

  ListenerDiff listeners = diffListeners(bootstrap_.listeners(), next.listeners());
  std::vector<std::pair<size_t, std::vector<network::ListenSocketPtr>>> bound;
  for (size_t i : listeners.added) {
    // Returning on failure closes every socket bound so far.
    auto sockets = bindListener(next.listeners(i), i);
    if (!sockets.ok()) return sockets.status();
    bound.emplace_back(i, std::move(*sockets));
  }

  // Certificates, keys and credentials are read now: a bad file rejects
  // the reload.
  auto tls_contexts = tls_listeners_->prepare(next.listeners());
  if (!tls_contexts.ok()) return tls_contexts.status();
  auto security = security_->prepare(next);
  if (!security.ok()) return security.status();

  auto clusters = cluster_manager_->prepare(next);
  if (!clusters.ok()) return clusters.status();
  // The new static runtime layer under the current overrides, and the
  // rollouts' current state: checks that the new routes build.
  Runtime runtime = runtime_;
  runtime.setStaticLayer({next.runtime().begin(), next.runtime().end()});
  router::RouteInputs trial_inputs;
  trial_inputs.runtime = runtime.snapshot();
  canary_->fillRouteInputs(trial_inputs);
  auto goproxy = buildGoproxyConfig(next, (*clusters)->clusters(), trial_inputs);
  if (!goproxy.ok()) return goproxy.status();
  auto access_logs = openAccessLogs(next);
  if (!access_logs.ok()) return access_logs.status();

  // 2. Commit. Each worker runs these posts in order: balancers of new and
  // changed clusters and the names of removed ones (a worker keeps a
  // removed cluster's balancer while requests hold the cluster), then the
  // snapshot whose routes name the new clusters, then listener changes.
  const auto& update = **clusters;
  LOG_INFO("reload: clusters kept ", update.kept.size(), ", reweighted ", update.reweighted.size(),
           ", replaced ", update.replaced.size(), ", added ", update.added.size(), ", removed ",
           update.removed.size(), "; listeners kept ", listeners.kept.size(), ", added ",
           listeners.added.size(), ", removed ", listeners.removed.size());
  cluster_manager_->commit(std::move(*clusters));
  publishAccessLogs(*access_logs);
  // Rollouts adopt the new routes (unchanged ones keep their stage and
  // windows), runtime holds apply again, and the snapshot is rebuilt with
  // that state; the trial build above already proved the routes resolve.
  runtime_ = std::move(runtime);
  cluster_manager_->applyRuntime(runtime_.snapshot());
  canary_->update(next);
  canary_->applyRuntime(runtime_.snapshot());
  if (auto rebuilt = buildGoproxyConfig(next, cluster_manager_->clusters(), routeInputs());
      rebuilt.ok()) {
    goproxy = std::move(rebuilt);
  } else {
    LOG_ERROR("reload: route table with rollout state failed (",
              std::string(rebuilt.status().message()), "); serving it without");
  }
  // Auth and policy first: the new routes may match principals.
  security_->commit(next, std::move(*security));
  publishGoproxyConfig(*goproxy);
  // New TLS settings reach kept listeners' next connections at once, and
  // added listeners start with them.
  tls_listeners_->commit(next.listeners(), std::move(*tls_contexts));
  for (size_t index : listeners.removed) {
    bound_listeners_.erase(bootstrap_.listeners(index).name());
  }
  // Added before removed: a listener moving to a new address under its
  // name is bound there before the old socket closes. removeListener(name)
  // then closes the oldest listener of that name, the old one.
  for (auto& [index, sockets] : bound) {
    addListenerToWorkers(next.listeners(index).name(), std::move(sockets));
  }
  for (size_t index : listeners.removed) {
    const std::string name = bootstrap_.listeners(index).name();
    for (auto& slot : workers_) {
      ConnectionHandler* handler = slot.handler.get();
      slot.worker->dispatcher().post([handler, name] { handler->removeListener(name); });
    }
  }

  log::Level level = log::Level::kInfo;
  if (!next.log_level().empty() && log::parseLevel(next.log_level(), level)) log::setLevel(level);
  return absl::OkStatus();
}

void Server::onConfigFileChanged() {
  if (draining_ || config_source_ == nullptr) return;
  // Editors and ConfigMap updates touch the directory more often than they
  // change the config: reload only bytes not yet tried.
  auto text = config::ReadConfigFile(config_source_->path());
  if (!text.ok()) {
    // Mid-replacement, or deleted: the running config stays, and the file
    // coming back is another change.
    LOG_WARN("config file changed but cannot be read: ", std::string(text.status().message()));
    return;
  }
  const std::string sha256 = sha256Hex(*text);
  if (sha256 == last_attempted_sha256_) return;
  last_attempted_sha256_ = sha256;
  (void)reload("file change");
}

std::string Server::listenerAddress() const {
  // The first configured listener, from the main thread's record (the
  // worker handlers belong to their threads).
  if (bootstrap_.listeners_size() == 0) return "";
  auto it = bound_listeners_.find(bootstrap_.listeners(0).name());
  return it == bound_listeners_.end() ? "" : it->second.toString();
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
  auto goproxy = buildGoproxyConfig(bootstrap_, cluster_manager_->clusters(), routeInputs());
  if (!goproxy.ok()) return goproxy.status();
  publishGoproxyConfig(*goproxy);
  return absl::OkStatus();
}

void Server::registerCanaryHandlers() {
  admin_.addHandler("/runtime", "runtime values: static layer, overrides, effective", false,
                    [this](std::string_view) { return Admin::jsonResponse(runtime_.status()); });
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
        for (absl::Status status : {canary_->checkRuntime(trial.snapshot()),
                                    cluster_manager_->checkRuntime(trial.snapshot())}) {
          if (!status.ok()) {
            return Admin::Response{400, "text/plain; charset=utf-8",
                                   std::string(status.message()) + "\n"};
          }
        }
        runtime_ = std::move(trial);
        cluster_manager_->applyRuntime(runtime_.snapshot());
        canary_->applyRuntime(runtime_.snapshot());
        absl::Status status = publishRoutes();
        if (!status.ok()) {
          return Admin::Response{500, "text/plain; charset=utf-8",
                                 std::string(status.message()) + "\n"};
        }
        LOG_INFO("runtime overrides changed: ", std::string(query));
        return Admin::jsonResponse(runtime_.status());
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
  admin_.addHandler(
      "/ready", "200 when serving, 503 while starting or draining", false,
      [this](std::string_view) {
        if (ready_ && !draining_ && !health_failed_ && !awaiting_control_plane_) {
          return Admin::Response{200, "text/plain; charset=utf-8", "LIVE\n"};
        }
        if (awaiting_control_plane_ && !draining_) {
          return Admin::Response{503, "text/plain; charset=utf-8", "WAITING FOR CONTROL PLANE\n"};
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
        stats_.cache_hot_bytes->Set(static_cast<double>(cache_stats.hot_bytes));
        stats_.cache_hot_entries->Set(static_cast<double>(cache_stats.hot_entries));
        // The cache counts evictions itself; catch the counter up.
        stats::Stats::catchUp(*stats_.cache_evictions, static_cast<double>(cache_stats.evictions));
        for (size_t k = 0; k < stats::Stats::kCacheKinds; ++k) {
          const cache::KindStats& kind = cache_stats.kinds[k];
          stats_.cache_kind_bytes[k]->Set(static_cast<double>(kind.bytes));
          stats_.cache_kind_entries[k]->Set(static_cast<double>(kind.entries));
          stats::Stats::catchUp(*stats_.cache_kind_hits[k], static_cast<double>(kind.hits));
          stats::Stats::catchUp(*stats_.cache_kind_misses[k], static_cast<double>(kind.misses));
          stats::Stats::catchUp(*stats_.cache_kind_evictions[k],
                                static_cast<double>(kind.evictions));
        }
        stats_.setProtocolCounts(protocol_counters_);
        stats::Stats::catchUp(*stats_.access_log_written_lines,
                              static_cast<double>(access_log_totals_.written_lines.load()));
        stats::Stats::catchUp(*stats_.access_log_dropped_lines,
                              static_cast<double>(access_log_totals_.dropped_lines.load()));
        stats::Stats::catchUp(*stats_.access_log_write_errors,
                              static_cast<double>(access_log_totals_.write_errors.load()));
        return Admin::Response{200, "text/plain; version=0.0.4; charset=utf-8",
                               stats_.renderPrometheus()};
      });
  admin_.addHandler("/server_info", "version, build, uptime, config version, workers", false,
                    [this](std::string_view) { return Admin::jsonResponse(serverInfo()); });
  admin_.addHandler("/cache",
                    "the cache by kind: entries, bytes, hit ratio; oldest entry; disk free", false,
                    [this](std::string_view) {
                      return Admin::jsonResponse(cacheReport(*cache_, stats_.workerLatency()));
                    });
  admin_.addHandler("/cache/modules",
                    "the most requested modules: ?top=N (default 20) [&by=hits|bytes]", false,
                    [this](std::string_view query) { return topModules(*cache_, query); });
  admin_.addHandler("/cache/purge",
                    "remove a module's entries: ?module=M[&version=V] (list and @latest too)", true,
                    [this](std::string_view query) {
                      Admin::Response response = purgeModule(*cache_, query);
                      if (response.status == 200) {
                        LOG_INFO("cache purge: ", std::string(query));
                      }
                      return response;
                    });
  admin_.addHandler(
      "/config_dump",
      "the running configuration (secrets redacted), its version and load time, "
      "and the last rejected reload",
      false, [this](std::string_view) {
        return Admin::Response{200, "application/json", json::ToConfigJson(configDump()) + "\n"};
      });
  admin_.addHandler(
      "/reload", "re-read the config file and apply it (200 with the version, 400 with the error)",
      true, [this](std::string_view) {
        auto version = reload("admin /reload");
        if (!version.ok()) {
          return Admin::Response{400, "text/plain; charset=utf-8",
                                 absl::StrCat(version.status().message(), "\n")};
        }
        return Admin::Response{200, "text/plain; charset=utf-8", absl::StrCat(*version, "\n")};
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
  admin_.addHandler(
      "/verify_cache",
      "recheck every cached .mod and .zip against the checksum database and remove those that do "
      "not match (202; GET /verify_cache reports)",
      true, [this](std::string_view) {
        if (verify_report_->running()) {
          return Admin::Response{409, "text/plain; charset=utf-8",
                                 "a verify-cache run is under way: GET /verify_cache\n"};
        }
        if (workers_.empty()) {
          return Admin::Response{503, "text/plain; charset=utf-8", "no worker to run on\n"};
        }
        // Marked running here so a second POST right after is refused.
        verify_report_->start(0);
        filters::goproxy::WorkerContext* context = workers_[0].context.get();
        workers_[0].worker->dispatcher().post(
            [config = goproxy_config_, context, report = verify_report_] {
              filters::goproxy::verifyCache(config, *context, report);
            });
        return Admin::Response{202, "text/plain; charset=utf-8",
                               "verify-cache started: GET /verify_cache for the report\n"};
      });
  admin_.addHandler(
      "/verify_cache", "the last verify-cache run: counts and every entry removed", false,
      [this](std::string_view) {
        return Admin::Response{200, "text/plain; charset=utf-8", verify_report_->text()};
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
    if (tally->busy == 0) {
      LOG_INFO("drained: no connection or fetch left; exiting");
      main_dispatcher_.exit();
    } else if (main_dispatcher_.now() >= drain_deadline_) {
      LOG_WARN("drain timeout: ", tally->busy, " connections and fetches still busy; exiting");
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

void Server::onReloadSignal(int, short, void* arg) {
  auto* self = static_cast<Server*>(arg);
  LOG_INFO("SIGHUP received: reloading the config");
  (void)self->reload("SIGHUP");
}

namespace {

std::string timeText(int64_t unix_ms) {
  return absl::FormatTime("%Y-%m-%dT%H:%M:%E3SZ", absl::FromUnixMillis(unix_ms),
                          absl::UTCTimeZone());
}

}  // namespace

admin::v1::ServerInfo Server::serverInfo() const {
  admin::v1::ServerInfo info;
  info.set_version(kVersion);
  info.set_build(kBuild);
  const int64_t now = common::wallClockUnixMs();
  info.set_uptime_seconds(static_cast<double>(now - started_at_unix_ms_) / 1000.0);
  info.set_started_at(timeText(started_at_unix_ms_));
  info.set_config_version(configVersion());
  info.set_workers(static_cast<uint32_t>(workers_.size()));
  info.set_state(draining_                   ? "DRAINING"
                 : awaiting_control_plane_   ? "WAITING FOR CONTROL PLANE"
                 : ready_ && !health_failed_ ? "LIVE"
                 : health_failed_            ? "HEALTHCHECK FAILED"
                                             : "NOT READY");
  info.set_pid(static_cast<uint32_t>(::getpid()));
  return info;
}

admin::v1::ConfigDump Server::configDump() const {
  admin::v1::ConfigDump dump;
  dump.set_version_info(configVersion());
  dump.set_config_sha256(config_sha256_);
  dump.set_reload_sequence(static_cast<uint32_t>(reload_sequence_));
  dump.set_config_path(config_source_ == nullptr ? "" : config_source_->path());
  dump.set_loaded_at(timeText(loaded_at_unix_ms_));
  dump.set_loaded_at_unix_ms(static_cast<double>(loaded_at_unix_ms_));
  if (last_failed_reload_.has_value()) {
    admin::v1::FailedReload& failed = *dump.mutable_last_failed_reload();
    failed.set_error(last_failed_reload_->error);
    failed.set_at(timeText(last_failed_reload_->at_unix_ms));
    failed.set_at_unix_ms(static_cast<double>(last_failed_reload_->at_unix_ms));
    failed.set_config_sha256(last_failed_reload_->sha256);
  }
  if (xds_ != nullptr) *dump.mutable_control_plane() = xds_->status();
  if (dynamic_.has_value()) {
    admin::v1::DynamicConfigInfo& info = *dump.mutable_dynamic_config();
    info.set_source_url(dynamic_->source_url());
    info.set_acked_at(timeText(dynamic_->acked_at_unix_ms()));
    info.set_acked_at_unix_ms(static_cast<double>(dynamic_->acked_at_unix_ms()));
    info.set_restored_from_disk(dynamic_restored_);
    info.set_listeners(dynamic_->listeners_size());
    info.set_clusters(dynamic_->clusters_size());
    info.set_routes(dynamic_->routes_size());
    info.set_sumdbs(dynamic_->sumdbs_size());
    for (const auto& [type, version] : dynamic_->type_versions()) {
      (*info.mutable_type_versions())[type] = version;
    }
  }
  *dump.mutable_bootstrap() = bootstrap_;
  config::RedactSensitiveFields(*dump.mutable_bootstrap());
  return dump;
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
