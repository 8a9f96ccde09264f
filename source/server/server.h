#pragma once

#include <atomic>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "api/modgate/admin/v1/config_dump.pb.h"
#include "api/modgate/admin/v1/server_info.pb.h"
#include "api/modgate/config/v1/bootstrap.pb.h"
#include "source/admin/admin.h"
#include "source/cache/cache.h"
#include "source/cache/inflight.h"
#include "source/cache/inflight_table.h"
#include "source/common/common/thread_pool.h"
#include "source/common/event/dispatcher_impl.h"
#include "source/common/stats/stats.h"
#include "source/config/xds/xds_client.h"
#include "source/filters/goproxy/cache_verifier.h"
#include "source/filters/goproxy/goproxy_filter.h"
#include "source/server/canary_manager.h"
#include "source/server/config_source.h"
#include "source/server/config_watcher.h"
#include "source/server/filter_chain.h"
#include "source/server/runtime.h"
#include "source/server/security_filters.h"
#include "source/server/tls_listeners.h"
#include "source/server/worker.h"
#include "source/upstream/cluster/cluster_manager.h"

struct event;

namespace modgate::server {

// The admin endpoint table, shared with the control plane.
using admin::Admin;

// The assembled proxy: a main thread running the admin listener and signal
// handling, N workers each owning a listener socket (SO_REUSEPORT), their
// connections and upstream pools, one disk cache and single-flight table
// shared by all, and a thread pool for disk I/O.
//
// Config reload (SIGHUP, admin POST /reload, a change of the config file):
// the main thread loads and validates the file as at startup, diffs it
// against the running config and prepares everything that can fail (new
// clusters, the route table, sockets for new listeners) before it changes
// anything; then it commits and posts the changes to every worker in one
// order: cluster balancers, the new GOPROXY snapshot, listener changes,
// removed clusters. Requests in flight keep the snapshot (and clusters)
// they started with.
class Server {
 public:
  explicit Server(config::v1::Bootstrap bootstrap);
  ~Server();

  // Where reload() reads the config from; `sha256_hex` is the hash of the
  // bytes `bootstrap` (the constructor's) came from. `watch`: reload when
  // the file changes (inotify). Call before initialize(). Without a source,
  // or with the built-in config (no file), reload() has nothing to read.
  void setConfigSource(std::unique_ptr<ConfigSource> source, std::string sha256_hex, bool watch);

  // Opens the cache, binds every listener and starts the workers.
  absl::Status initialize();

  // Main thread: re-reads the config and applies it. Returns the new
  // version, or the error (every line naming a field) with nothing changed.
  // Counted in modgate_config_reload_total{result} and logged.
  absl::StatusOr<std::string> reload(std::string_view trigger);
  // Main thread: makes `dynamic` (a control plane's resources) the running
  // config's dynamic part, layered over the local file, through the same
  // validation and apply path as reload(): unchanged clusters keep their
  // state, requests in flight finish on their snapshot. On success it is
  // persisted in cache.dir (the config a restart serves while the control
  // plane is down) and the new version is returned; on error (every bad
  // field, as `modgate validate` prints it) nothing changed.
  absl::StatusOr<std::string> applyDynamicConfig(config::v1::DynamicConfig dynamic,
                                                 std::string_view trigger);
  // The running dynamic config, if any (main thread).
  const std::optional<config::v1::DynamicConfig>& dynamicConfig() const { return dynamic_; }
  // The running config's version: "<reloads>-<sha256 prefix>".
  std::string configVersion() const;
  // Runs the main loop until a signal or /quitquitquit ends it.
  void run();
  // Thread-safe: starts a graceful shutdown (fail readiness, drain, exit).
  void shutdown();

  // The bound addresses (after initialize), for tests using port 0.
  std::string listenerAddress() const;
  std::string adminAddress() const;

 private:
  struct WorkerSlot {
    std::unique_ptr<Worker> worker;
    std::unique_ptr<filters::goproxy::WorkerContext> context;
    std::unique_ptr<filters::goproxy::GoproxyFilterFactory> filters;
    std::unique_ptr<filters::access_log::WorkerAccessLog> access_log;
    // Read at scrape from the main thread: freed only with the slot.
    std::unique_ptr<stats::RequestLatency> latency;
    // stats -> access log -> auth -> policy -> GOPROXY, over `filters`.
    std::unique_ptr<WorkerFilterChain> chain;
    std::unique_ptr<ConnectionHandler> handler;
  };

  // The access logs `bootstrap` asks for, by listener name: files already
  // open for the same path are kept (and reopened: a reload is also a
  // logrotate point), others opened. Fails naming the listener's field.
  absl::StatusOr<filters::access_log::AccessLogConfigSharedPtr> openAccessLogs(
      const config::v1::Bootstrap& bootstrap);
  // Main thread: makes `config` every worker's access log snapshot.
  void publishAccessLogs(filters::access_log::AccessLogConfigSharedPtr config);
  static void onReopenSignal(int signal, short, void* arg);

  // The GOPROXY filter's snapshot for `bootstrap`, its routes resolved
  // against `clusters` with `inputs` (runtime values, rollout and shadow
  // state). The one place a snapshot is built (startup, reload, rollout and
  // runtime changes); anything else a snapshot carries belongs here too.
  absl::StatusOr<filters::goproxy::GoproxyConfigSharedPtr> buildGoproxyConfig(
      const config::v1::Bootstrap& bootstrap,
      const std::map<std::string, upstream::ClusterSharedPtr>& clusters,
      const router::RouteInputs& inputs);
  // Main thread: makes `config` the snapshot new requests use on every
  // worker (posted; requests in flight keep theirs).
  void publishGoproxyConfig(filters::goproxy::GoproxyConfigSharedPtr config);
  // Binds one socket per worker on `listener`'s address (SO_REUSEPORT; with
  // port 0 the first socket's port for all). Fails as a whole, with the
  // error naming listeners[index].address.
  absl::StatusOr<std::vector<network::ListenSocketPtr>> bindListener(
      const config::v1::Listener& listener, size_t index);
  // Hands one socket to each worker's ConnectionHandler (posted once the
  // workers run).
  void addListenerToWorkers(const std::string& name, std::vector<network::ListenSocketPtr> sockets);
  absl::Status applyConfig(const config::v1::Bootstrap& next);
  // reload() and applyDynamicConfig(): load the file with `dynamic` merged
  // in and apply it.
  absl::StatusOr<std::string> reloadWith(const std::string& trigger,
                                         const config::v1::DynamicConfig* dynamic);
  // Startup, with a control plane: the last ACKed dynamic config from
  // cache.dir, merged over the file, becomes the config to start with.
  void restoreDynamicConfig();
  void onConfigFileChanged();
  void registerAdminHandlers();
  void registerCanaryHandlers();
  // What route tables are built with besides the config: runtime values
  // and the live state of rollouts and shadows.
  router::RouteInputs routeInputs() const;
  // Rebuilds the snapshot from the running config and the current inputs
  // and publishes it (a rollout changed weight, a runtime override
  // changed).
  absl::Status publishRoutes();
  admin::v1::ConfigDump configDump() const;
  admin::v1::ServerInfo serverInfo() const;
  void startDrain();
  void onDrainTick();
  static void onSignal(int signal, short, void* arg);
  static void onReloadSignal(int signal, short, void* arg);

  // Before everything that may hold an access log file: files count into it.
  access_log::AccessLogFile::Totals access_log_totals_;
  config::v1::Bootstrap bootstrap_;
  event::DispatcherImpl main_dispatcher_{"main"};
  filters::access_log::AccessLogConfigSharedPtr access_logs_;
  stats::Stats stats_;
  // Connections and streams by protocol, counted by every worker's
  // connection managers (connection_settings_ points here).
  http::ProtocolCounters protocol_counters_;
  std::unique_ptr<common::ThreadPool> disk_pool_;
  // The last (or current) verify-cache run, for GET /verify_cache.
  std::shared_ptr<filters::goproxy::CacheVerifyReport> verify_report_ =
      std::make_shared<filters::goproxy::CacheVerifyReport>();
  std::unique_ptr<cache::Cache> cache_;
  std::unique_ptr<cache::InflightTable> inflight_;
  std::unique_ptr<upstream::ClusterManager> cluster_manager_;
  filters::goproxy::GoproxyConfigSharedPtr goproxy_config_;
  Runtime runtime_;
  std::unique_ptr<CanaryManager> canary_;
  http::ConnectionManagerSettings connection_settings_;
  http::ConnectionManagerSettings admin_settings_;
  std::vector<WorkerSlot> workers_;
  Admin admin_;
  std::unique_ptr<ConnectionHandler> admin_handler_;
  std::vector<::event*> signal_events_;
  event::TimerPtr drain_timer_;
  event::TimerPtr stats_timer_;
  std::atomic<bool> ready_{false};
  std::atomic<uint64_t> downstream_connections_{0};
  std::atomic<bool> health_failed_{false};
  bool draining_ = false;
  event::MonotonicTime drain_deadline_;
  int64_t loaded_at_unix_ms_ = 0;
  int64_t started_at_unix_ms_ = 0;

  // Reload state (main thread).
  std::unique_ptr<ConfigSource> config_source_;
  bool watch_config_ = false;
  std::unique_ptr<ConfigWatcher> config_watcher_;
  // Downstream TLS contexts by listener name, and their file watches.
  std::unique_ptr<TlsListeners> tls_listeners_;
  // Client auth and module policy snapshots, and the credentials file watch.
  std::unique_ptr<SecurityFilters> security_;
  // Per-client connection and request counters (limits.*_per_client), or
  // null when neither is set.
  std::unique_ptr<common::ClientCounters> client_counters_;
  std::string config_sha256_;
  uint64_t reload_sequence_ = 0;
  // The hash of the file the last reload attempt read: the watcher does not
  // retry a file that already failed, nor reload one already running.
  std::string last_attempted_sha256_;
  struct FailedReload {
    std::string error;
    int64_t at_unix_ms = 0;
    std::string sha256;
  };
  std::optional<FailedReload> last_failed_reload_;
  // The control plane's part of the running config (with one configured).
  std::optional<config::v1::DynamicConfig> dynamic_;
  // Startup served dynamic_ from the persisted file, not from a push.
  bool dynamic_restored_ = false;
  // No config from the control plane yet (and none persisted): /ready
  // waits, until the first push or control_plane.initial_fetch_timeout.
  std::atomic<bool> awaiting_control_plane_{false};
  event::TimerPtr initial_fetch_timer_;
  // With a control plane: the subscription that feeds applyDynamicConfig.
  std::unique_ptr<config::xds::XdsClient> xds_;
  // Bound addresses of the running listeners, by name (port 0 resolved).
  std::map<std::string, network::Address> bound_listeners_;
  bool workers_started_ = false;
};

}  // namespace modgate::server
