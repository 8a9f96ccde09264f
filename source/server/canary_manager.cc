#include "source/server/canary_manager.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "source/admin/query_params.h"
#include "source/canary/rollout_status.h"
#include "source/common/common/logger.h"

namespace modgate::server {

using admin::queryValue;
namespace {

namespace v1 = config::v1;

std::chrono::milliseconds toMillis(const google::protobuf::Duration& d) {
  return std::chrono::milliseconds(d.seconds() * 1000 + d.nanos() / 1000000);
}

canary::GateKind gateKind(v1::RolloutGate::Metric metric) {
  switch (metric) {
    case v1::RolloutGate::P99_LATENCY_MS:
      return canary::GateKind::kP99Latency;
    case v1::RolloutGate::CONTENT_MISMATCH:
      return canary::GateKind::kContentMismatch;
    default:
      return canary::GateKind::kErrorRatio;
  }
}

// What identifies a route's canary setup: when it is unchanged across a
// reload, the rollout keeps its stage and history.
std::string specKey(const v1::Route& route) {
  v1::Route key;
  *key.mutable_weighted_clusters() = route.weighted_clusters();
  // Runtime overrides of weights do not matter to a rollout.
  key.mutable_weighted_clusters()->clear_runtime_key_prefix();
  if (route.has_rollout()) *key.mutable_rollout() = route.rollout();
  if (route.has_shadow()) *key.mutable_shadow() = route.shadow();
  std::string bytes;
  key.SerializeToString(&bytes);
  return bytes;
}

Admin::Response text(int status, std::string body) {
  return Admin::Response{status, "text/plain; charset=utf-8", std::move(body) + "\n"};
}

}  // namespace

canary::RolloutSpec rolloutSpecFromProto(const v1::Rollout& rollout) {
  canary::RolloutSpec spec;
  for (const v1::RolloutStage& stage : rollout.stages()) {
    spec.stages.push_back(canary::Stage{stage.weight(), toMillis(stage.min_duration())});
  }
  for (const v1::RolloutGate& gate : rollout.gates()) {
    const auto window = std::chrono::seconds(
        gate.has_window() ? std::max<int64_t>(1, gate.window().seconds()) : 60);
    const uint64_t min_requests = gate.has_min_requests() ? gate.min_requests().value() : 100;
    const canary::GateKind kind = gateKind(gate.metric());
    spec.gates.push_back(gate.relative_to_stable()
                             ? canary::GateSpec::relativeToStable(
                                   kind,
                                   gate.has_stable_factor() ? gate.stable_factor().value() : 1.0,
                                   gate.max(), window, min_requests)
                             : canary::GateSpec::absolute(kind, gate.max(), window, min_requests));
  }
  if (rollout.has_evaluation_interval()) {
    spec.evaluation_interval = toMillis(rollout.evaluation_interval());
  }
  return spec;
}

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
  std::unique_ptr<canary::Rollout> rollout;  // null: a shadow without rollout
  std::shared_ptr<canary::ShadowComparator> comparator;
  event::TimerPtr timer;
  prometheus::Gauge* weight = nullptr;
  prometheus::Gauge* stage = nullptr;
  std::map<canary::RolloutState, prometheus::Gauge*> states;
  std::vector<prometheus::Gauge*> gate_values;
  std::vector<prometheus::Gauge*> gate_verdicts;
  // The stage a runtime override holds the rollout at, while it does.
  std::optional<uint64_t> held_stage;
};

CanaryManager::CanaryManager(event::Dispatcher& main_dispatcher, stats::Stats& stats,
                             std::function<void()> on_change)
    : main_dispatcher_(main_dispatcher),
      on_change_(std::move(on_change)),
      weight_family_(prometheus::BuildGauge()
                         .Name("modgate_rollout_canary_weight")
                         .Help("Percent of clients a rollout sends to its canary cluster")
                         .Register(stats.registry())),
      stage_family_(prometheus::BuildGauge()
                        .Name("modgate_rollout_stage")
                        .Help("Index of a rollout's current stage")
                        .Register(stats.registry())),
      state_family_(prometheus::BuildGauge()
                        .Name("modgate_rollout_state")
                        .Help("1 for a rollout's current state, 0 for the others")
                        .Register(stats.registry())),
      gate_value_family_(prometheus::BuildGauge()
                             .Name("modgate_rollout_gate_value")
                             .Help("The canary's value of each rollout gate at the last evaluation")
                             .Register(stats.registry())),
      gate_verdict_family_(prometheus::BuildGauge()
                               .Name("modgate_rollout_gate_passing")
                               .Help("1 pass, 0 fail, -1 not enough data, per rollout gate")
                               .Register(stats.registry())),
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
      next.emplace(route.name(), std::move(existing->second));
      routes_.erase(existing);
      continue;
    }
    auto state = std::make_unique<RouteState>();
    state->route = route.name();
    state->spec_key = key;
    std::chrono::seconds max_window(60);
    canary::RolloutSpec spec;
    if (route.has_rollout()) {
      spec = rolloutSpecFromProto(route.rollout());
      for (const auto& gate : spec.gates) max_window = std::max(max_window, gate.window);
    }
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
    if (route.has_rollout()) {
      const std::map<std::string, std::string> labels{{"route", route.name()}};
      state->weight = &weight_family_.Add(labels);
      state->stage = &stage_family_.Add(labels);
      for (auto s : {canary::RolloutState::kProgressing, canary::RolloutState::kPaused,
                     canary::RolloutState::kCompleted, canary::RolloutState::kRolledBack,
                     canary::RolloutState::kAborted}) {
        state->states[s] = &state_family_.Add(
            {{"route", route.name()}, {"state", std::string(canary::rolloutStateName(s))}});
      }
      for (size_t g = 0; g < spec.gates.size(); ++g) {
        const std::map<std::string, std::string> gate_labels{
            {"route", route.name()},
            {"gate", absl::StrCat(g, "_", std::string(canary::gateKindName(spec.gates[g].kind)))}};
        state->gate_values.push_back(&gate_value_family_.Add(gate_labels));
        state->gate_verdicts.push_back(&gate_verdict_family_.Add(gate_labels));
      }
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
    route.canary_weight_percent =
        state->rollout != nullptr ? state->rollout->currentCanaryWeight() : 0;
    route.stable_outcomes = state->stable;
    route.canary_outcomes = state->canary;
    route.comparator = state->comparator;
  }
}

void CanaryManager::evaluate(RouteState& state) {
  state.rollout->evaluate(main_dispatcher_.now(), *state.stable, *state.canary);
  updateGauges(state);
  state.timer->enableTimer(state.rollout->spec().evaluation_interval);
}

void CanaryManager::updateGauges(const RouteState& state) {
  const canary::Rollout& rollout = *state.rollout;
  state.weight->Set(rollout.currentCanaryWeight());
  state.stage->Set(static_cast<double>(rollout.stageIndex()));
  for (const auto& [s, gauge] : state.states) gauge->Set(s == rollout.state() ? 1 : 0);
  const auto& results = rollout.gateResults();
  for (size_t g = 0; g < state.gate_values.size(); ++g) {
    if (g >= results.size()) {
      state.gate_verdicts[g]->Set(-1);
      continue;
    }
    state.gate_values[g]->Set(results[g].canary_value);
    state.gate_verdicts[g]->Set(results[g].verdict == canary::GateVerdict::kPass   ? 1
                                : results[g].verdict == canary::GateVerdict::kFail ? 0
                                                                                   : -1);
  }
}

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
  return Admin::jsonResponse(
      canary::rolloutsStatus(rollouts, main_dispatcher_.now(), std::chrono::system_clock::now()));
}

Admin::Response CanaryManager::control(std::string_view op, std::string_view query) {
  const std::string route = queryValue(query, "route");
  std::string reason = queryValue(query, "reason");
  if (route.empty()) return text(400, "missing route=NAME");
  auto it = routes_.find(route);
  if (it == routes_.end() || it->second->rollout == nullptr) {
    return text(404, absl::StrCat("no rollout on route \"", route, "\""));
  }
  if (reason.empty()) reason = absl::StrCat(std::string(op), " by operator (admin)");
  canary::Rollout& rollout = *it->second->rollout;
  const auto now = main_dispatcher_.now();
  bool done = false;
  if (op == "pause") {
    done = rollout.pause(now, reason);
  } else if (op == "resume") {
    done = rollout.resume(now, reason);
  } else if (op == "advance") {
    done = rollout.advance(now, reason);
  } else if (op == "abort") {
    done = rollout.abort(now, reason);
  } else if (op == "restart") {
    done = rollout.restart(now, reason);
  } else {
    return text(404, absl::StrCat("unknown rollout operation \"", std::string(op), "\""));
  }
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
