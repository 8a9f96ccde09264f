#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <set>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "api/modgate/admin/v1/rollouts.pb.h"
#include "api/modgate/controlplane/v1/control_plane.pb.h"
#include "api/modgate/controlplane/v1/rollout_state.pb.h"
#include "api/modgate/service/fleet/v1/fleet_report.pb.h"
#include "source/admin/admin.h"
#include "source/canary/rollout.h"
#include "source/canary/sliding_window.h"
#include "source/canary/time.h"
#include "source/common/event/dispatcher.h"
#include "source/control_plane/fleet.h"

namespace modgate::control_plane {

// A new desired-config version rolled out to a share of the nodes first
// (ControlPlane.config_rollout). The server keeps two configs while one
// runs: the version every node had (previous) and the new one, which the
// ADS streams of canary nodes (isCanary) are served. This class decides
// when that ends:
//   waiting_for_acks  every connected canary node must ACK the new version
//                     (Fleet: synced to its generation); a NACK from any
//                     of them since the start stops it;
//   holding           the canary engine (source/canary) runs a two-stage
//                     rollout [canary_percent for `hold`, then 100] with the
//                     configured gates over the fleet reports: canary nodes'
//                     totals (Report.total: all their traffic, whatever
//                     route) are its canary side, the other nodes' its
//                     stable side; completed promotes, rolled back stops.
// An operator may end it either way (POST /config_rollout/abort|promote).
// The server is told through `on_done(promoted)` (posted, not re-entrant)
// and then serves the new version to all, or the previous one again.
// Main thread only.
class ConfigRollout : public canary::RolloutListener {
 public:
  ConfigRollout(event::Dispatcher& dispatcher, const controlplane::v1::ConfigRollout& config,
                const Fleet& fleet, std::function<void(bool promoted)> on_done);
  ~ConfigRollout() override;

  // Errors name the field under `config_rollout`.
  static absl::Status validate(const controlplane::v1::ConfigRollout& config);

  bool enabled() const { return percent_ > 0; }
  // A new version now goes to the canary nodes (previous_version: what
  // the others keep). Replaces a rollout still running (superseded). The
  // server then publishes it (onRepublished).
  void start(std::string previous_version);
  // Starts again, from waiting_for_acks, a rollout a restarted control plane
  // found in its state_dir (`saved`, from savedState()): the same fallback
  // canary, and before it holds it waits (kReconnectGrace at most) for the
  // canary nodes of then to connect again and ACK.
  void resume(const controlplane::v1::RunningConfigRollout& saved);
  // What state_dir keeps of it while it runs (the server adds the digests
  // and the previous version's files).
  controlplane::v1::RunningConfigRollout savedState() const;
  // The new version was published (again: e.g. a fleet rollout's weight
  // stamped on it) as `generation`: the canary nodes must ACK that one.
  void onRepublished(uint64_t generation, std::string version) {
    generation_ = generation;
    version_ = std::move(version);
  }
  // Ends a running rollout without a verdict (the desired config changed
  // back, or again).
  void supersede(std::string reason);
  bool running() const { return phase_ == Phase::kWaitingForAcks || phase_ == Phase::kHolding; }
  // How often its gates read the reports: while it runs, sidecars must
  // report at least as often, or a short hold sees no traffic at all.
  std::chrono::milliseconds evaluationInterval() const { return spec_.evaluation_interval; }
  // Whether node `id` is served the new version while it runs.
  bool isCanary(const std::string& id) const;
  void onReport(const std::string& node_id, const service::fleet::v1::Report& report);
  // POST /config_rollout/<op>[?reason=TEXT], op "abort" (stopped, as a
  // failing gate stops it) or "promote" (the new version to every node
  // now); 409 when none runs.
  admin::Admin::Response control(std::string_view op, std::string_view query);

  admin::v1::ConfigRolloutView status() const;

  // canary::RolloutListener
  void onTransition(const canary::Rollout& rollout, const canary::HistoryEntry& entry) override;

 private:
  enum class Phase { kIdle, kWaitingForAcks, kHolding, kPromoted, kStopped, kSuperseded };

  // What start() and resume() share.
  void begin(std::string previous_version);
  void tick();
  // A resumed rollout's canary nodes of before the restart not connected
  // again yet (empty once kReconnectGrace is over).
  std::set<std::string> awaitedCanaries();
  void finish(Phase phase, std::string reason);
  // Connected nodes that are canaries, by id.
  std::set<std::string> canaryNodes() const;

  event::Dispatcher& dispatcher_;
  const Fleet& fleet_;
  std::function<void(bool)> on_done_;
  const uint32_t percent_;
  canary::RolloutSpec spec_;
  event::TimerPtr timer_;

  Phase phase_ = Phase::kIdle;
  std::string version_;
  std::string previous_version_;
  uint64_t generation_ = 0;
  int64_t started_at_ms_ = 0;
  int64_t finished_at_ms_ = 0;
  std::string reason_;
  // The canary when the share selects no connected node.
  std::string fallback_canary_;
  // The connected canary nodes at the last check (status after the end).
  std::set<std::string> last_canaries_;
  // After resume(): the canary nodes of before, and until when to wait.
  std::set<std::string> returning_canaries_;
  canary::MonotonicTime returning_until_{};
  std::unique_ptr<canary::Rollout> hold_;
  std::unique_ptr<canary::SlidingWindow> stable_;
  std::unique_ptr<canary::SlidingWindow> canary_;
};

}  // namespace modgate::control_plane
