#pragma once

#include <functional>
#include <map>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "api/modgate/config/v1/bootstrap.pb.h"
#include "source/common/event/dispatcher.h"
#include "source/common/stats/stats.h"
#include "source/upstream/cluster/cluster.h"
#include "source/upstream/health/health_checker.h"
#include "source/upstream/health/outlier_detector.h"

namespace modgate::upstream {

// Owns every cluster on the main thread: builds them from the config and,
// whenever a host's health changes, builds a new balancer factory from the
// new health and publishes it to every worker. Workers never see a
// half-updated host set: each gets an immutable snapshot.
class ClusterManager {
 public:
  using PublishCb =
      std::function<void(const std::string& cluster, std::shared_ptr<const LoadBalancerFactory>)>;

  static absl::StatusOr<std::unique_ptr<ClusterManager>> create(
      const config::v1::Bootstrap& bootstrap, stats::Stats& stats);

  // Every cluster by name, including one per checksum database with its own
  // URL ("sumdb_<name>").
  const std::map<std::string, ClusterSharedPtr>& clusters() const { return clusters_; }
  ClusterSharedPtr get(const std::string& name) const;

  // The current factory of each cluster, for a worker starting up.
  std::shared_ptr<const LoadBalancerFactory> currentFactory(const std::string& name) const;
  // Called (main thread) with each new factory; set before workers start.
  void setPublisher(PublishCb publish) { publish_ = std::move(publish); }
  // Main thread: a host of `cluster` changed health; rebuild and publish.
  void onHostHealthChanged(const std::string& cluster);

  // Main thread, once, before workers start: health checkers and outlier
  // detectors begin (hosts with active health checks start unhealthy until
  // their first check passes, as in Envoy; with every host unhealthy the
  // panic threshold spreads traffic over all of them meanwhile).
  void start(event::Dispatcher& main_dispatcher);

  // Text for admin /clusters: one line per host and field, Envoy style.
  std::string dumpClusters() const;

  ~ClusterManager();

 private:
  // The health machinery of one cluster and where its verdicts go.
  struct Runtime : public HealthCheckerCallbacks, public OutlierDetectorCallbacks {
    ClusterManager* manager = nullptr;
    std::string cluster;
    std::optional<HealthCheckOptions> health_check;
    std::optional<OutlierDetectionOptions> outlier_detection;
    std::unique_ptr<HealthChecker> checker;
    std::unique_ptr<OutlierDetector> detector;
    prometheus::Counter* ejections = nullptr;
    void onHostHealthChanged(const HostSharedPtr& host, bool healthy) override;
    void onHostEjectionChanged(const HostSharedPtr& host, bool ejected) override;
  };

  ClusterManager() = default;
  HttpClient& healthCheckClient(const Host& host);

  std::map<std::string, ClusterSharedPtr> clusters_;
  std::map<std::string, std::shared_ptr<const LoadBalancerFactory>> factories_;
  PublishCb publish_;
  std::map<std::string, std::unique_ptr<Runtime>> runtimes_;
  event::Dispatcher* main_dispatcher_ = nullptr;
  // Health checks use their own clients on the main thread.
  std::map<std::string, std::unique_ptr<HttpClient>> health_clients_;
};

// A worker's view: one load balancer per cluster, rebuilt from each
// published factory. Worker thread only.
class ThreadLocalClusters {
 public:
  explicit ThreadLocalClusters(uint64_t seed) : seed_(seed) {}
  void update(const std::string& cluster,
              const std::shared_ptr<const LoadBalancerFactory>& factory);
  // nullptr when the cluster has no host to offer.
  HostSharedPtr chooseHost(const Cluster& cluster, LoadBalancerContext* context);

 private:
  const uint64_t seed_;
  std::map<std::string, std::unique_ptr<LoadBalancer>, std::less<>> balancers_;
};

}  // namespace modgate::upstream
