#pragma once

#include <atomic>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "api/modgate/config/v1/bootstrap.pb.h"
#include "source/cache/cache.h"
#include "source/cache/inflight.h"
#include "source/cache/inflight_table.h"
#include "source/common/common/thread_pool.h"
#include "source/common/event/dispatcher_impl.h"
#include "source/common/stats/stats.h"
#include "source/filters/goproxy/goproxy_filter.h"
#include "source/server/admin/admin.h"
#include "source/server/canary_manager.h"
#include "source/server/runtime.h"
#include "source/server/worker.h"
#include "source/upstream/cluster/cluster_manager.h"

struct event;

namespace modgate::server {

// The assembled proxy: a main thread running the admin listener and signal
// handling, N workers each owning a listener socket (SO_REUSEPORT), their
// connections and upstream pools, one disk cache and single-flight table
// shared by all, and a thread pool for disk I/O.
class Server {
 public:
  explicit Server(config::v1::Bootstrap bootstrap);
  ~Server();

  // Opens the cache, binds every listener and starts the workers.
  absl::Status initialize();
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
    std::unique_ptr<ConnectionHandler> handler;
  };

  void registerAdminHandlers();
  void registerCanaryHandlers();
  // What route tables are built with besides the config: runtime values
  // and the live state of rollouts and shadows.
  router::RouteInputs routeInputs() const;
  // Rebuilds the route table from the running config and the current
  // inputs and posts the new snapshot to every worker (a rollout changed
  // weight, a runtime override changed).
  absl::Status publishRoutes();
  void startDrain();
  void onDrainTick();
  static void onSignal(int signal, short, void* arg);

  config::v1::Bootstrap bootstrap_;
  event::DispatcherImpl main_dispatcher_{"main"};
  stats::Stats stats_;
  std::unique_ptr<common::ThreadPool> disk_pool_;
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
};

}  // namespace modgate::server
