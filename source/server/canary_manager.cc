#include "source/server/canary_manager.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "source/admin/query_params.h"
#include "source/canary/rollout_config.h"
#include "source/canary/rollout_status.h"
#include "source/canary/side_stats.h"
#include "source/common/common/logger.h"

namespace modgate::server {

using admin::queryValue;
namespace {

namespace v1 = config::v1;

// How far back the node's total reaches: a report interval longer than this
// (the control plane asks 10 s or less in practice) loses the older seconds.
// About 1 KB a second.
constexpr std::chrono::seconds kTotalWindow{300};

// What identifies a route's canary setup: when it is unchanged across a
// reload, the rollout keeps its stage and history.
std::string specKey(const v1::Route& route) {
  v1::Route key;
  *key.mutable_weighted_clusters() = route.weighted_clusters();
  // Runtime overrides of weights do not matter to a rollout.
  key.mutable_weighted_clusters()->clear_runtime_key_prefix();
  if (route.has_rollout()) {
    *key.mutable_rollout() = route.rollout();
    // The weight a control plane pushes changes at every stage: the windows
    // and the state stay. Who runs the rollout is part of the key.
    if (route.rollout().has_fleet()) key.mutable_rollout()->mutable_fleet()->Clear();
  }
  if (route.has_shadow()) *key.mutable_shadow() = route.shadow();
  std::string bytes;
  key.SerializeToString(&bytes);
  return bytes;
}

Admin::Response text(int status, std::string body) {
  return Admin::Response{status, "text/plain; charset=utf-8", std::move(body) + "\n"};
}

}  // namespace

struct CanaryManager::ShadowReporter : public canary::ShadowListener {
  std::string route;
  // The canary's window: a mismatch is evidence against the canary.
  std::shared_ptr<canary::OutcomeRecorder> canary_outcomes;
  prometheus::Counter* matches = nullptr;
  prometheus::Counter* mismatches = nullptr;

  // Any thread (whichever worker completed the pair).
  void onComparison(const canary::ShadowComparison& comparison) override {
    const auto now = std::chrono::steady_clock::now();
    if (comparison.matched()) {
      matches->Increment();
      canary_outcomes->recordShadow(canary::ShadowResult::kMatch, now);
      return;
    }
    mismatches->Increment();
    canary_outcomes->recordShadow(canary::ShadowResult::kMismatch, now);
    LOG_ERROR("shadow mismatch on route ", route, ": ", comparison.key.module, "@",
              comparison.key.version, ".", comparison.key.artifact, " served sha256 ",
              crypto::toHex(comparison.served), ", shadow sha256 ",
              crypto::toHex(comparison.shadow));
  }
};

struct CanaryManager::RouteState {
  std::string route;
  std::string spec_key;
  std::shared_ptr<canary::SlidingWindow> stable;
  std::shared_ptr<canary::SlidingWindow> canary;
  std::unique_ptr<canary::Rollout> rollout;  // null: a shadow, or a fleet rollout
  // Set while the control plane runs this route's rollout: what it said.
  std::optional<v1::FleetRolloutControl> fleet;
  // The last whole second reported to the control plane.
  int64_t reported_through = 0;
  std::shared_ptr<canary::ShadowComparator> comparator;
  event::TimerPtr timer;
  std::optional<canary::RolloutGauges> gauges;
  // The stage a runtime override holds the rollout at, while it does.
  std::optional<uint64_t> held_stage;
};

CanaryManager::CanaryManager(event::Dispatcher& main_dispatcher, stats::Stats& stats,
                             std::function<void()> on_change)
    : main_dispatcher_(main_dispatcher),
      on_change_(std::move(on_change)),
      total_(std::make_shared<canary::SlidingWindow>(kTotalWindow)),
      total_reported_through_(canary::SlidingWindow::secondOf(main_dispatcher.now()) - 1),
      gauges_(stats.registry()),
      shadow_family_(prometheus::BuildCounter()
                         .Name("modgate_shadow_comparisons_total")
                         .Help("Shadowed artifacts compared, by result (match or mismatch)")
                         .Register(stats.registry())) {}

CanaryManager::~CanaryManager() = default;

void CanaryManager::update(const v1::Bootstrap& bootstrap) {
  std::map<std::string, std::unique_ptr<RouteState>, std::less<>> next;
  for (const v1::Route& route : bootstrap.routes()) {
    if (route.name().empty() || (!route.has_rollout() && !route.has_shadow())) continue;
    const std::string key = specKey(route);
    auto existing = routes_.find(route.name());
    if (existing != routes_.end() && existing->second->spec_key == key) {
      RouteState& kept = *existing->second;
      if (route.rollout().has_fleet()) {
        kept.fleet = route.rollout().fleet();
        kept.gauges->set(kept.fleet->canary_weight(), kept.fleet->stage());
      }
      next.emplace(route.name(), std::move(existing->second));
      routes_.erase(existing);
      continue;
    }
    auto state = std::make_unique<RouteState>();
    state->route = route.name();
    state->spec_key = key;
    state->reported_through = canary::SlidingWindow::secondOf(main_dispatcher_.now()) - 1;
    canary::RolloutSpec spec;
    if (route.has_rollout()) spec = canary::rolloutSpecFromProto(route.rollout());
    const std::chrono::seconds max_window = canary::maxGateWindow(spec);
    state->stable = std::make_shared<canary::SlidingWindow>(max_window);
    state->canary = std::make_shared<canary::SlidingWindow>(max_window);
    if (route.has_shadow()) {
      // The reporter and the comparator live and die together: workers may
      // still hold the comparator after a reload dropped this route.
      struct Bundle {
        ShadowReporter reporter;
        std::optional<canary::ShadowComparator> comparator;
      };
      auto bundle = std::make_shared<Bundle>();
      bundle->reporter.route = route.name();
      bundle->reporter.canary_outcomes = state->canary;
      bundle->reporter.matches =
          &shadow_family_.Add({{"route", route.name()}, {"result", "match"}});
      bundle->reporter.mismatches =
          &shadow_family_.Add({{"route", route.name()}, {"result", "mismatch"}});
      bundle->comparator.emplace(canary::ShadowComparatorOptions{}, bundle->reporter);
      state->comparator = std::shared_ptr<canary::ShadowComparator>(bundle, &*bundle->comparator);
    }
    if (route.has_rollout() && route.rollout().has_fleet()) {
      state->fleet = route.rollout().fleet();
      state->gauges.emplace(gauges_, route.name(), nullptr);
      state->gauges->set(state->fleet->canary_weight(), state->fleet->stage());
      LOG_INFO("rollout on route ", route.name(), " run by control plane ",
               state->fleet->control_plane(), ": canary weight ", state->fleet->canary_weight(),
               "%");
      next.emplace(route.name(), std::move(state));
      continue;
    }
    if (route.has_rollout()) {
      state->gauges.emplace(gauges_, route.name(), &spec);
      RouteState* raw = state.get();
      // Registered before create() so that the start transition finds it.
      next.emplace(route.name(), std::move(state));
      auto rollout = canary::Rollout::create(spec, main_dispatcher_.now(), this);
      if (!rollout.ok()) {
        // The validator checks what create() does; this is a bug if reached.
        LOG_ERROR("rollout on route ", route.name(), ": ", rollout.status().message());
        next.erase(route.name());
        continue;
      }
      raw->rollout = std::move(*rollout);
      raw->timer = main_dispatcher_.createTimer([this, raw] { evaluate(*raw); });
      raw->timer->enableTimer(raw->rollout->spec().evaluation_interval);
      updateGauges(*raw);
      LOG_INFO("rollout on route ", route.name(), " started: ", spec.stages.size(),
               " stages, canary weight ", raw->rollout->currentCanaryWeight(), "%");
      continue;
    }
    next.emplace(route.name(), std::move(state));
  }
  for (auto& [name, state] : routes_) {
    if (state->rollout != nullptr) LOG_INFO("rollout on route ", name, " removed by config");
  }
  routes_ = std::move(next);
}

namespace {
std::string stageKey(const std::string& route) {
  return absl::StrCat("rollouts.", route, ".stage");
}
}  // namespace

absl::Status CanaryManager::checkRuntime(const std::map<std::string, uint64_t>& runtime) const {
  for (const auto& [name, state] : routes_) {
    if (state->rollout == nullptr) continue;
    auto it = runtime.find(stageKey(name));
    if (it != runtime.end() && it->second >= state->rollout->spec().stages.size()) {
      return absl::InvalidArgumentError(
          absl::StrCat(it->first, ": stage ", it->second, " out of range (route ", name, " has ",
                       state->rollout->spec().stages.size(), " stages, 0..",
                       state->rollout->spec().stages.size() - 1, ")"));
    }
  }
  return absl::OkStatus();
}

void CanaryManager::applyRuntime(const std::map<std::string, uint64_t>& runtime) {
  const auto now = main_dispatcher_.now();
  for (auto& [name, state] : routes_) {
    if (state->rollout == nullptr) continue;
    auto it = runtime.find(stageKey(name));
    if (it != runtime.end()) {
      if (state->held_stage == it->second) continue;
      if (state->rollout->holdAt(now, it->second,
                                 absl::StrCat("runtime ", it->first, "=", it->second))) {
        state->held_stage = it->second;
      } else {
        LOG_WARN("runtime ", it->first, "=", it->second, ": no such stage on route ", name);
      }
    } else if (state->held_stage.has_value()) {
      state->held_stage.reset();
      state->rollout->resume(now, absl::StrCat("runtime ", stageKey(name), " removed"));
    }
    updateGauges(*state);
  }
}

void CanaryManager::fillRouteInputs(router::RouteInputs& inputs) const {
  for (const auto& [name, state] : routes_) {
    router::RouteCanaryInputs& route = inputs.canary[name];
    route.canary_weight_percent = state->rollout != nullptr  ? state->rollout->currentCanaryWeight()
                                  : state->fleet.has_value() ? state->fleet->canary_weight()
                                                             : 0;
    route.stable_outcomes = state->stable;
    route.canary_outcomes = state->canary;
    route.comparator = state->comparator;
  }
  inputs.total_outcomes = total_;
}

void CanaryManager::evaluate(RouteState& state) {
  state.rollout->evaluate(main_dispatcher_.now(), *state.stable, *state.canary);
  updateGauges(state);
  state.timer->enableTimer(state.rollout->spec().evaluation_interval);
}

void CanaryManager::updateGauges(const RouteState& state) { state.gauges->update(*state.rollout); }

void CanaryManager::onTransition(const canary::Rollout& rollout,
                                 const canary::HistoryEntry& entry) {
  std::string name = "?";
  for (const auto& [route, state] : routes_) {
    if (state->rollout.get() == &rollout) name = route;
  }
  const std::string line = absl::StrCat(
      "rollout on route ", name, ": ", std::string(canary::rolloutStateName(entry.from_state)),
      " stage ", entry.from_stage, " (", entry.from_weight, "%) -> ",
      std::string(canary::rolloutStateName(entry.to_state)), " stage ", entry.to_stage, " (",
      entry.to_weight, "%): ", entry.reason);
  if (entry.to_state == canary::RolloutState::kRolledBack) {
    LOG_WARN(line);
  } else {
    LOG_INFO(line);
  }
  if (entry.from_weight != entry.to_weight && on_change_) {
    // After the state machine finishes this transition: the new weight is
    // what the next route table is built with.
    main_dispatcher_.post([this] { on_change_(); });
  }
}

Admin::Response CanaryManager::rolloutsJson() const {
  std::vector<canary::NamedRollout> rollouts;
  for (const auto& [name, state] : routes_) {
    if (state->rollout != nullptr)
      rollouts.push_back(canary::NamedRollout{name, state->rollout.get()});
  }
  admin::v1::Rollouts status =
      canary::rolloutsStatus(rollouts, main_dispatcher_.now(), std::chrono::system_clock::now());
  for (const auto& [name, state] : routes_) {
    if (!state->fleet.has_value()) continue;
    admin::v1::Rollout& out = *status.add_rollouts();
    out.set_name(name);
    out.set_state(state->fleet->state());
    out.set_canary_weight(state->fleet->canary_weight());
    out.set_stage(state->fleet->stage());
    out.set_reason(state->fleet->reason());
    out.set_controlled_by(state->fleet->control_plane());
  }
  return Admin::jsonResponse(status);
}

void CanaryManager::fillReport(service::fleet::v1::Report& report) {
  const int64_t through = canary::SlidingWindow::secondOf(main_dispatcher_.now()) - 1;
  // Always set, even empty: a control plane tells an idle node from one
  // too old to send totals by its presence.
  canary::OutcomeCounts total;
  if (through > total_reported_through_) {
    total = total_->countsOf(total_reported_through_ + 1, through);
    total_reported_through_ = through;
  }
  canary::toSideStats(total, *report.mutable_total());
  for (auto& [name, state] : routes_) {
    if (state->rollout == nullptr && !state->fleet.has_value()) continue;
    if (through <= state->reported_through) continue;
    const canary::OutcomeCounts stable =
        state->stable->countsOf(state->reported_through + 1, through);
    const canary::OutcomeCounts canary =
        state->canary->countsOf(state->reported_through + 1, through);
    state->reported_through = through;
    // A route run by the control plane is always reported, so its
    // aggregate knows this node even while idle.
    if (!state->fleet.has_value() && stable.empty() && canary.empty()) continue;
    service::fleet::v1::RouteStats& route = *report.add_routes();
    route.set_route(name);
    canary::toSideStats(stable, *route.mutable_stable());
    canary::toSideStats(canary, *route.mutable_canary());
    route.set_canary_weight(state->rollout != nullptr ? state->rollout->currentCanaryWeight()
                                                      : state->fleet->canary_weight());
  }
}

Admin::Response CanaryManager::control(std::string_view op, std::string_view query) {
  const std::string route = queryValue(query, "route");
  std::string reason = queryValue(query, "reason");
  if (route.empty()) return text(400, "missing route=NAME");
  auto it = routes_.find(route);
  if (it != routes_.end() && it->second->fleet.has_value()) {
    return text(
        409, absl::StrCat("the rollout on route ", route, " is run by control plane ",
                          it->second->fleet->control_plane(), ": control it there (POST /rollout/",
                          std::string(op), "?route=", route, " on its admin)"));
  }
  if (it == routes_.end() || it->second->rollout == nullptr) {
    return text(404, absl::StrCat("no rollout on route \"", route, "\""));
  }
  if (reason.empty()) reason = absl::StrCat(std::string(op), " by operator (admin)");
  canary::Rollout& rollout = *it->second->rollout;
  std::optional<bool> applied =
      canary::applyOperation(rollout, op, main_dispatcher_.now(), std::move(reason));
  if (!applied.has_value()) {
    return text(404, absl::StrCat("unknown rollout operation \"", std::string(op), "\""));
  }
  const bool done = *applied;
  updateGauges(*it->second);
  if (!done) {
    return text(409, absl::StrCat("cannot ", std::string(op), " route ", route, ": rollout is ",
                                  std::string(canary::rolloutStateName(rollout.state()))));
  }
  return text(200, absl::StrCat(route, ": ", std::string(canary::rolloutStateName(rollout.state())),
                                ", stage ", rollout.stageIndex(), ", canary weight ",
                                rollout.currentCanaryWeight(), "%"));
}

}  // namespace modgate::server
