#pragma once

#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/registry.h>

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "api/modgate/admin/v1/rollouts.pb.h"
#include "api/modgate/config/v1/bootstrap.pb.h"
#include "api/modgate/service/fleet/v1/fleet_report.pb.h"
#include "source/admin/admin.h"
#include "source/canary/rollout.h"
#include "source/canary/rollout_gauges.h"
#include "source/canary/sliding_window.h"
#include "source/common/event/dispatcher.h"
#include "source/control_plane/fleet.h"

namespace modgate::control_plane {

// The fleet-wide gray releases. Every named route of the desired config
// with a `rollout` is run here, once for the whole fleet, by the same
// engine a single modgate uses (source/canary): the sidecars' reports are
// added into one stable and one canary window per route (SlidingWindow::add,
// by the second they arrive), the rollout evaluates its gates on those
// windows every evaluation_interval, and each transition that changes the
// weight asks the server to publish the desired config again with the new
// weight stamped on the route (Rollout.fleet): a new config version, pushed
// to every node and ACKed or NACKed as any other. A failing gate therefore
// reaches the fleet within one evaluation interval plus one push.
//
// A route's rollout keeps its state across desired-config changes while
// its route, clusters and rollout are unchanged; a changed one starts over.
// With a state directory, each rollout's state (state, stage, when the stage
// was entered, history) is written to a file on every transition
// (rollout_state_file.h) and a restarted control plane resumes from it: a
// rolled-back rollout stays rolled back, a running one goes on at its stage
// with empty gate windows. A file that cannot be used is shown in /rollouts
// and the rollout starts from the config.
//
// Main thread only.
class FleetRollouts : public canary::RolloutListener {
 public:
  FleetRollouts(event::Dispatcher& dispatcher, prometheus::Registry& registry,
                std::string identifier, std::function<void()> on_weight_change,
                std::string state_dir = "");
  ~FleetRollouts() override;

  // Adopts the rollouts of the desired config (its base, before node
  // groups' overrides).
  void update(const config::v1::Bootstrap& desired);
  // A node's report: its routes' deltas join the fleet's windows.
  void onReport(const std::string& node_id, const service::fleet::v1::Report& report);
  // Sets Rollout.fleet on every route of `config` whose rollout runs here.
  void stamp(config::v1::Bootstrap& config) const;
  // The config generation (and its base version) that carries the current
  // weights.
  void onPublished(uint64_t generation, std::string version) {
    published_generation_ = generation;
    published_version_ = std::move(version);
  }
  // How often sidecars should report: the shortest evaluation interval,
  // at most `ceiling`.
  std::chrono::milliseconds reportInterval(std::chrono::milliseconds ceiling) const;

  // GET /rollouts: each rollout's engine status plus the fleet's view
  // (aggregates per side, nodes reporting, nodes that ACKed the weight).
  admin::v1::Rollouts status(const Fleet& fleet) const;
  // POST /rollout/<op>?route=NAME[&reason=TEXT].
  admin::Admin::Response control(std::string_view op, std::string_view query);

  size_t size() const { return routes_.size(); }

  // canary::RolloutListener
  void onTransition(const canary::Rollout& rollout, const canary::HistoryEntry& entry) override;

 private:
  struct RouteRollout;

  void evaluate(RouteRollout& route);
  // Creates the route's rollout, from its state file when one fits.
  absl::Status start(RouteRollout& state, const config::v1::Route& route);
  void save(RouteRollout& route);

  event::Dispatcher& dispatcher_;
  const std::string identifier_;
  // Empty: state is not kept across restarts.
  const std::string state_dir_;
  bool started_ = false;
  std::function<void()> on_weight_change_;
  canary::RolloutGaugeFamilies gauges_;
  prometheus::Family<prometheus::Counter>& reports_;
  prometheus::Family<prometheus::Counter>& transitions_;
  std::map<std::string, std::unique_ptr<RouteRollout>, std::less<>> routes_;
  // The route whose rollout is being created, for its start transition.
  std::string creating_;
  uint64_t published_generation_ = 0;
  std::string published_version_;
};

}  // namespace modgate::control_plane
