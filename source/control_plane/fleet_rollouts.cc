#include "source/control_plane/fleet_rollouts.h"

#include <unistd.h>

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "source/admin/query_params.h"
#include "source/canary/rollout_config.h"
#include "source/canary/rollout_status.h"
#include "source/canary/side_stats.h"
#include "source/common/common/logger.h"
#include "source/common/crypto/sha256.h"
#include "source/control_plane/rollout_state_file.h"

namespace modgate::control_plane {
namespace {

namespace v1 = config::v1;

// What identifies a route's rollout: unchanged across a desired-config
// change, the rollout keeps its stage, history and windows.
std::string specKey(const v1::Route& route) {
  v1::Route key;
  *key.mutable_weighted_clusters() = route.weighted_clusters();
  key.mutable_weighted_clusters()->clear_runtime_key_prefix();
  *key.mutable_rollout() = route.rollout();
  key.mutable_rollout()->clear_fleet();
  std::string bytes;
  key.SerializeToString(&bytes);
  return bytes;
}

admin::Admin::Response text(int status, std::string body) {
  return admin::Admin::Response{status, "text/plain; charset=utf-8", std::move(body) + "\n"};
}

void fillSide(const canary::WindowSnapshot& window, admin::v1::SideView& out) {
  out.set_requests(window.requests);
  out.set_errors(window.errors);
  out.set_error_ratio(window.error_ratio);
  out.set_p99_ms(window.p99_ms);
  out.set_shadow_comparisons(window.shadow_comparisons);
  out.set_shadow_mismatches(window.mismatches);
}

// The spec key's digest, saved with the state so that a state is only
// resumed by the rollout it was saved for.
std::string specHash(const std::string& spec_key) {
  return crypto::toHex(crypto::Sha256::hash(spec_key)).substr(0, 16);
}

// History reasons can be long (every gate described); a pushed config
// carries a bounded one.
constexpr size_t kMaxPushedReason = 512;

}  // namespace

struct FleetRollouts::RouteRollout {
  std::string route;
  std::string spec_key;
  // Its state file, and what became of it (shown in /rollouts).
  admin::v1::PersistedState persisted;
  // Why the file could not be used at start, and why the last save failed.
  std::string load_error;
  std::string save_error;
  std::unique_ptr<canary::Rollout> rollout;
  std::unique_ptr<canary::SlidingWindow> stable;
  std::unique_ptr<canary::SlidingWindow> canary;
  // Each reporting node and when its last report for this route came.
  std::map<std::string, canary::MonotonicTime> reporters;
  event::TimerPtr timer;
  std::optional<canary::RolloutGauges> gauges;
};

FleetRollouts::FleetRollouts(event::Dispatcher& dispatcher, prometheus::Registry& registry,
                             std::string identifier, std::function<void()> on_weight_change,
                             std::string state_dir)
    : dispatcher_(dispatcher),
      identifier_(std::move(identifier)),
      state_dir_(std::move(state_dir)),
      on_weight_change_(std::move(on_weight_change)),
      gauges_(registry),
      reports_(prometheus::BuildCounter()
                   .Name("modgate_cp_reports_total")
                   .Help("Fleet reports received, by whether they named a rollout's route")
                   .Register(registry)),
      transitions_(prometheus::BuildCounter()
                       .Name("modgate_cp_rollout_transitions_total")
                       .Help("Fleet rollout transitions, by route and state entered")
                       .Register(registry)) {}

FleetRollouts::~FleetRollouts() = default;

void FleetRollouts::update(const v1::Bootstrap& desired) {
  std::map<std::string, std::unique_ptr<RouteRollout>, std::less<>> next;
  for (const v1::Route& route : desired.routes()) {
    if (route.name().empty() || !route.has_rollout()) continue;
    const std::string key = specKey(route);
    auto existing = routes_.find(route.name());
    if (existing != routes_.end() && existing->second->spec_key == key) {
      next.emplace(route.name(), std::move(existing->second));
      routes_.erase(existing);
      continue;
    }
    const canary::RolloutSpec spec = canary::rolloutSpecFromProto(route.rollout());
    auto state = std::make_unique<RouteRollout>();
    state->route = route.name();
    state->spec_key = key;
    state->stable = std::make_unique<canary::SlidingWindow>(canary::maxGateWindow(spec));
    state->canary = std::make_unique<canary::SlidingWindow>(canary::maxGateWindow(spec));
    state->gauges.emplace(gauges_, route.name(), &spec);
    RouteRollout* raw = state.get();
    // Registered before the rollout is created so that its start
    // transition finds it.
    next.emplace(route.name(), std::move(state));
    if (absl::Status started = start(*raw, route); !started.ok()) {
      // (the validator checks what create() does)
      LOG_ERROR("fleet rollout on route ", route.name(), ": ", started.message());
      next.erase(route.name());
      continue;
    }
    raw->timer = dispatcher_.createTimer([this, raw] { evaluate(*raw); });
    raw->timer->enableTimer(raw->rollout->spec().evaluation_interval);
    raw->gauges->update(*raw->rollout);
    save(*raw);
  }
  for (const auto& [name, state] : routes_) {
    LOG_INFO("fleet rollout on route ", name, " removed or changed by the desired config");
    if (!state_dir_.empty() && !next.contains(name)) {
      ::unlink(RolloutStatePath(state_dir_, name).c_str());
    }
  }
  // State files of rollouts the desired config no longer has: they were
  // removed while no control plane ran, and would otherwise come back to
  // life if the same rollout were added again later.
  if (!started_ && !state_dir_.empty()) {
    for (const std::string& route : RolloutStateRoutes(state_dir_)) {
      if (next.contains(route)) continue;
      LOG_INFO("fleet rollout on route ", route,
               " is not in the desired config: removing its state file");
      ::unlink(RolloutStatePath(state_dir_, route).c_str());
    }
  }
  started_ = true;
  routes_ = std::move(next);
}

absl::Status FleetRollouts::start(RouteRollout& state, const v1::Route& route) {
  canary::RolloutSpec spec = canary::rolloutSpecFromProto(route.rollout());
  const auto now = dispatcher_.now();
  if (!state_dir_.empty()) {
    const std::string path = RolloutStatePath(state_dir_, route.name());
    state.persisted.set_path(path);
    absl::StatusOr<std::optional<controlplane::v1::FleetRolloutState>> saved =
        LoadRolloutState(path);
    // A file that cannot be used is kept aside for a post-mortem (the next
    // save replaces it) and the rollout starts from the config.
    auto unusable = [&](absl::string_view why) {
      const std::string aside = path + ".unreadable";
      const bool kept = ::rename(path.c_str(), aside.c_str()) == 0;
      state.load_error =
          absl::StrCat(why, "; started from the config",
                       kept ? absl::StrCat(" (the file is kept as ", aside, ")") : "");
      LOG_WARN("fleet rollout on route ", route.name(), ": ", state.load_error);
    };
    if (!saved.ok()) {
      unusable(saved.status().message());
    } else if (saved->has_value() && (*saved)->spec_hash() != specHash(state.spec_key)) {
      LOG_INFO("fleet rollout on route ", route.name(), ": ", path,
               " was saved for another rollout spec; starting over from the config");
    } else if (saved->has_value()) {
      const auto wall_now = std::chrono::system_clock::now();
      auto restored = RestoreRollout(**saved, spec, now, wall_now, this);
      if (restored.ok()) {
        state.rollout = std::move(*restored);
        state.persisted.set_restored_from_saved_at(
            absl::FormatTime("%Y-%m-%dT%H:%M:%E3SZ", absl::FromUnixMillis((*saved)->saved_at_ms()),
                             absl::UTCTimeZone()));
        state.persisted.set_restored_from_control_plane((*saved)->control_plane());
        LOG_INFO("fleet rollout on route ", route.name(), " resumed from ", path, ": ",
                 std::string(canary::rolloutStateName(state.rollout->state())), " stage ",
                 state.rollout->stageIndex(), " (", state.rollout->currentCanaryWeight(),
                 "%), saved at ", state.persisted.restored_from_saved_at(),
                 "; gate windows start empty");
        return absl::OkStatus();
      }
      unusable(absl::StrCat(path, ": ", restored.status().message()));
    }
  }
  creating_ = route.name();
  auto rollout = canary::Rollout::create(std::move(spec), now, this);
  creating_.clear();
  if (!rollout.ok()) return rollout.status();
  state.rollout = std::move(*rollout);
  LOG_INFO("fleet rollout on route ", route.name(),
           " started: ", state.rollout->spec().stages.size(), " stages, canary weight ",
           state.rollout->currentCanaryWeight(), "%");
  return absl::OkStatus();
}

void FleetRollouts::save(RouteRollout& route) {
  if (state_dir_.empty() || route.rollout == nullptr) return;
  absl::Status saved = SaveRolloutState(
      route.persisted.path(),
      RolloutStateOf(route.route, specHash(route.spec_key), *route.rollout, dispatcher_.now(),
                     std::chrono::system_clock::now(), identifier_));
  if (saved.ok()) {
    route.save_error.clear();
    return;
  }
  route.save_error = absl::StrCat("cannot save: ", saved.message());
  LOG_WARN("fleet rollout on route ", route.route, ": ", route.save_error,
           " (a restarted control plane would start it over)");
}

void FleetRollouts::onReport(const std::string& node_id, const service::fleet::v1::Report& report) {
  const auto now = dispatcher_.now();
  bool named = false;
  for (const service::fleet::v1::RouteStats& stats : report.routes()) {
    auto it = routes_.find(stats.route());
    if (it == routes_.end()) continue;
    named = true;
    RouteRollout& route = *it->second;
    route.stable->add(canary::fromSideStats(stats.stable()), now);
    route.canary->add(canary::fromSideStats(stats.canary()), now);
    route.reporters[node_id] = now;
  }
  reports_.Add({{"rollout_routes", named ? "yes" : "no"}}).Increment();
}

void FleetRollouts::stamp(v1::Bootstrap& config) const {
  for (v1::Route& route : *config.mutable_routes()) {
    auto it = routes_.find(route.name());
    if (it == routes_.end() || !route.has_rollout()) continue;
    const canary::Rollout& rollout = *it->second->rollout;
    v1::FleetRolloutControl& fleet = *route.mutable_rollout()->mutable_fleet();
    fleet.set_canary_weight(rollout.currentCanaryWeight());
    fleet.set_stage(static_cast<uint32_t>(rollout.stageIndex()));
    fleet.set_state(std::string(canary::rolloutStateName(rollout.state())));
    fleet.set_reason(rollout.history().empty()
                         ? std::string()
                         : rollout.history().back().reason.substr(0, kMaxPushedReason));
    fleet.set_control_plane(identifier_);
  }
}

std::chrono::milliseconds FleetRollouts::reportInterval(std::chrono::milliseconds ceiling) const {
  std::chrono::milliseconds interval = ceiling;
  for (const auto& [name, route] : routes_) {
    interval = std::min(interval, route->rollout->spec().evaluation_interval);
  }
  return interval;
}

void FleetRollouts::evaluate(RouteRollout& route) {
  route.rollout->evaluate(dispatcher_.now(), *route.stable, *route.canary);
  route.gauges->update(*route.rollout);
  route.timer->enableTimer(route.rollout->spec().evaluation_interval);
}

void FleetRollouts::onTransition(const canary::Rollout& rollout,
                                 const canary::HistoryEntry& entry) {
  // (create() tells of the start before the rollout is stored.)
  std::string name = creating_.empty() ? "?" : creating_;
  for (const auto& [route, state] : routes_) {
    if (state->rollout.get() != &rollout) continue;
    name = route;
    save(*state);
  }
  transitions_
      .Add({{"route", name}, {"to_state", std::string(canary::rolloutStateName(entry.to_state))}})
      .Increment();
  const std::string line = absl::StrCat(
      "fleet rollout on route ", name, ": ",
      std::string(canary::rolloutStateName(entry.from_state)), " stage ", entry.from_stage, " (",
      entry.from_weight, "%) -> ", std::string(canary::rolloutStateName(entry.to_state)), " stage ",
      entry.to_stage, " (", entry.to_weight, "%): ", entry.reason);
  if (entry.to_state == canary::RolloutState::kRolledBack) {
    LOG_WARN(line);
  } else {
    LOG_INFO(line);
  }
  // Every transition is pushed (the sidecars show state and reason too);
  // after the state machine finishes it, so the stamp sees the new state.
  if (on_weight_change_) dispatcher_.post([this] { on_weight_change_(); });
}

admin::v1::Rollouts FleetRollouts::status(const Fleet& fleet) const {
  const auto now = dispatcher_.now();
  std::vector<canary::NamedRollout> named;
  for (const auto& [name, route] : routes_) {
    named.push_back(canary::NamedRollout{name, route->rollout.get()});
  }
  admin::v1::Rollouts out = canary::rolloutsStatus(named, now, std::chrono::system_clock::now());
  int i = 0;
  for (const auto& [name, route] : routes_) {
    admin::v1::Rollout& rollout = *out.mutable_rollouts(i++);
    rollout.set_controlled_by(identifier_);
    admin::v1::FleetView& view = *rollout.mutable_fleet();
    const std::chrono::seconds window = route->stable->maxWindow();
    fillSide(route->stable->snapshot(now, window), *view.mutable_stable());
    fillSide(route->canary->snapshot(now, window), *view.mutable_canary());
    view.set_window_seconds(static_cast<double>(window.count()));
    uint32_t reporting = 0;
    for (const auto& [node, at] : route->reporters) {
      if (now - at <= window) ++reporting;
    }
    view.set_nodes_reporting(reporting);
    view.set_pushed_version(published_version_);
    view.set_nodes_acked(static_cast<uint32_t>(fleet.nodesSyncedTo(published_generation_)));
    view.set_nodes_connected(static_cast<uint32_t>(fleet.connectedNodes()));
    if (!state_dir_.empty()) {
      admin::v1::PersistedState& persisted = *rollout.mutable_persisted();
      persisted = route->persisted;
      persisted.set_error(route->save_error.empty() ? route->load_error : route->save_error);
    }
  }
  return out;
}

admin::Admin::Response FleetRollouts::control(std::string_view op, std::string_view query) {
  const std::string route = admin::queryValue(query, "route");
  std::string reason = admin::queryValue(query, "reason");
  if (route.empty()) return text(400, "missing route=NAME");
  auto it = routes_.find(route);
  if (it == routes_.end()) {
    return text(404, absl::StrCat("no fleet rollout on route \"", route, "\""));
  }
  if (reason.empty()) reason = absl::StrCat(std::string(op), " by operator (control plane admin)");
  canary::Rollout& rollout = *it->second->rollout;
  std::optional<bool> done = canary::applyOperation(rollout, op, dispatcher_.now(), reason);
  if (!done.has_value()) {
    return text(404, absl::StrCat("unknown rollout operation \"", std::string(op), "\""));
  }
  it->second->gauges->update(rollout);
  if (!*done) {
    return text(409, absl::StrCat("cannot ", std::string(op), " route ", route, ": rollout is ",
                                  std::string(canary::rolloutStateName(rollout.state()))));
  }
  return text(200, absl::StrCat(route, ": ", std::string(canary::rolloutStateName(rollout.state())),
                                ", stage ", rollout.stageIndex(), ", canary weight ",
                                rollout.currentCanaryWeight(), "%, pushing to the fleet"));
}

}  // namespace modgate::control_plane
