#pragma once

#include <prometheus/registry.h>

#include <memory>
#include <optional>
#include <string>

#include "absl/status/status.h"
#include "api/modgate/admin/v1/control_plane_status.pb.h"
#include "api/modgate/controlplane/v1/control_plane.pb.h"
#include "api/modgate/controlplane/v1/rollout_state.pb.h"
#include "source/admin/admin.h"
#include "source/common/event/dispatcher_impl.h"
#include "source/common/filesystem/directory_watcher.h"
#include "source/common/grpc/service_table.h"
#include "source/common/http/conn_manager/http_listener.h"
#include "source/control_plane/ads_service.h"
#include "source/control_plane/config_rollout.h"
#include "source/control_plane/fleet.h"
#include "source/control_plane/fleet_rollouts.h"
#include "source/control_plane/report_service.h"
#include "source/control_plane/xds_transport.h"

struct event;

namespace modgate::control_plane {

inline constexpr std::string_view kDefaultAddress = "127.0.0.1:18000";
inline constexpr std::string_view kDefaultAdminAddress = "127.0.0.1:9902";

// `modgate control-plane`: one thread, one dispatcher. It reads the desired
// config directory (again after each debounced change), validates it, and
// serves it over ADS to every sidecar; the admin listener shows the fleet.
// A config that fails validation is never served: the last good one stays,
// the error is logged and shown in /status. The desired config's rollouts
// run here for the whole fleet (FleetRollouts): each of their transitions
// publishes the config again with the new weights, as a new generation.
class ControlPlaneServer {
 public:
  explicit ControlPlaneServer(controlplane::v1::ControlPlane config);
  ~ControlPlaneServer();

  // Validates the control plane's config, loads the desired config (an
  // invalid one fails start-up), binds both listeners.
  absl::Status initialize();
  // Runs until SIGTERM/SIGINT, then drains the streams.
  void run();

 private:
  void reloadDesired();
  // Serves the loaded desired config (and a config rollout's candidate to
  // its canary nodes) with the fleet rollouts' current weights stamped on,
  // unless that is what is served already; `new_generation` serves it as a
  // new generation even so (after a config rollout stopped, so that the
  // canary nodes' return to it is ACKed like any change).
  void publish(bool new_generation = false);
  // A config rollout ended: promote its candidate or drop it.
  void onConfigRolloutDone(bool promoted);
  // <state_dir>/config_rollout.json: the version a config rollout stopped,
  // so that a restarted control plane does not serve it. Load returns
  // `digest` (and sets last_error_) when that is the stopped one; Save
  // with nullptr removes the file.
  std::string loadStoppedVersion(const std::string& digest);
  void saveStoppedVersion(const DesiredConfig* stopped);
  // <state_dir>/config_rollout_running.json while a config rollout runs:
  // the version before it (files and digest) and the candidate's digest.
  // On the first read after a restart, Load serves that previous version
  // (loaded_) again and returns the saved state, unless the desired config
  // is that version again (or config rollouts are off, or it cannot be
  // used): then it removes the file and returns nullopt.
  std::optional<controlplane::v1::RunningConfigRollout> loadRunningConfigRollout(
      const DesiredConfig& read);
  void saveRunningConfigRollout();
  void removeRunningConfigRollout();
  void registerAdmin();
  // GET /status.
  admin::v1::ControlPlaneStatus status() const;

  controlplane::v1::ControlPlane config_;
  event::DispatcherImpl dispatcher_{"control-plane"};
  std::shared_ptr<prometheus::Registry> registry_ = std::make_shared<prometheus::Registry>();
  prometheus::Counter* reload_success_ = nullptr;
  prometheus::Counter* reload_failure_ = nullptr;
  Fleet fleet_{registry_};
  std::unique_ptr<AdsService> ads_;
  std::unique_ptr<FleetRollouts> rollouts_;
  std::unique_ptr<ConfigRollout> config_rollout_;
  std::unique_ptr<ReportService> reports_;
  grpc::ServiceTable services_;
  admin::Admin admin_;
  http::ConnectionManagerSettings xds_settings_;
  http::ConnectionManagerSettings admin_settings_;
  std::unique_ptr<XdsTransport> transport_;
  std::unique_ptr<http::HttpListener> xds_listener_;
  std::unique_ptr<http::HttpListener> admin_listener_;
  std::unique_ptr<filesystem::DirectoryWatcher> watcher_;
  std::vector<::event*> signals_;

  uint64_t generation_ = 0;
  // As read from the directory, and as served (rollout weights stamped).
  std::shared_ptr<const DesiredConfig> loaded_;
  std::shared_ptr<const DesiredConfig> desired_;
  // A config rollout's new version, as read and as served to its canary
  // nodes; the digest of the last one stopped (not retried).
  std::shared_ptr<const DesiredConfig> candidate_loaded_;
  std::shared_ptr<const DesiredConfig> candidate_;
  std::string stopped_digest_;
  std::string last_error_;
  int64_t last_change_ms_ = 0;
  int64_t last_error_ms_ = 0;
};

}  // namespace modgate::control_plane
