#pragma once

#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "api/modgate/config/v1/bootstrap.pb.h"
#include "api/modgate/service/fleet/v1/fleet_report.pb.h"
#include "source/admin/admin.h"
#include "source/canary/rollout.h"
#include "source/canary/rollout_gauges.h"
#include "source/canary/shadow_comparator.h"
#include "source/canary/sliding_window.h"
#include "source/common/event/dispatcher.h"
#include "source/common/stats/stats.h"
#include "source/router/route_table_builder.h"

namespace modgate::server {

// The admin endpoint table, shared with the control plane.
using admin::Admin;

// The live side of canary releases, on the main thread: for every named
// route with a rollout or a shadow, the stable and canary outcome windows
// that workers record into, the shadow comparator, and the rollout state
// machine driven by a timer. When a rollout changes weight, `on_change`
// runs so the server publishes a new route table to the workers; the
// windows and comparator are shared by every snapshot, so no outcome is
// lost across snapshots or reloads. Beside them one more window counts the
// attempts of every route (the node's total), which the fleet reports carry
// for a control plane's config rollout.
class CanaryManager : public canary::RolloutListener {
 public:
  CanaryManager(event::Dispatcher& main_dispatcher, stats::Stats& stats,
                std::function<void()> on_change);
  ~CanaryManager() override;

  // Adopts the routes of a validated bootstrap. A route whose rollout,
  // weighted clusters and shadow are unchanged keeps its state (stage,
  // history, windows); a changed one starts over at stage 0; routes that
  // are gone are dropped.
  void update(const config::v1::Bootstrap& bootstrap);

  // Runtime key "rollouts.<route>.stage" holds a rollout paused at that
  // stage index while it is set; removing it resumes. check* says why a
  // runtime snapshot cannot apply (a stage out of range) without changing
  // anything; apply* acts on it (after update() too, so holds outlive
  // reloads).
  absl::Status checkRuntime(const std::map<std::string, uint64_t>& runtime) const;
  void applyRuntime(const std::map<std::string, uint64_t>& runtime);

  // The live inputs the next route table is built with.
  void fillRouteInputs(router::RouteInputs& inputs) const;

  // GET /rollouts: the rollouts this modgate runs, then those its control
  // plane runs (what it was told).
  Admin::Response rolloutsJson() const;

  // Adds, per route with a rollout and for the node's total, the outcomes of
  // the whole seconds not reported yet (deltas) to a report for the control
  // plane.
  void fillReport(service::fleet::v1::Report& report);
  // POST /rollout/<op>?route=NAME[&reason=TEXT], op one of pause, resume,
  // advance, abort, restart.
  Admin::Response control(std::string_view op, std::string_view query);

  // canary::RolloutListener
  void onTransition(const canary::Rollout& rollout, const canary::HistoryEntry& entry) override;

 private:
  struct RouteState;
  // Counts and logs each comparison of one route; shared with the
  // comparator (which workers may still hold after the route is dropped).
  struct ShadowReporter;

  void evaluate(RouteState& state);
  void updateGauges(const RouteState& state);

  event::Dispatcher& main_dispatcher_;
  std::function<void()> on_change_;
  std::map<std::string, std::unique_ptr<RouteState>, std::less<>> routes_;
  // Every route's attempts (RouteInputs::total_outcomes), and the last whole
  // second reported of them.
  const std::shared_ptr<canary::SlidingWindow> total_;
  int64_t total_reported_through_;
  canary::RolloutGaugeFamilies gauges_;
  prometheus::Family<prometheus::Counter>& shadow_family_;
};

}  // namespace modgate::server
