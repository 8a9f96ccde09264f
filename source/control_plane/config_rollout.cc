#include "source/control_plane/config_rollout.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "source/admin/query_params.h"
#include "source/canary/client_hash.h"
#include "source/canary/rollout_config.h"
#include "source/canary/rollout_status.h"
#include "source/canary/side_stats.h"
#include "source/common/common/logger.h"
#include "source/common/common/time.h"

namespace modgate::control_plane {
namespace {

namespace v1 = controlplane::v1;

constexpr std::chrono::milliseconds kDefaultHold{30000};
constexpr std::chrono::milliseconds kDefaultInterval{1000};
// How long a resumed rollout waits for its canary nodes to connect again
// (sidecars retry within seconds; one gone for good must not block it).
constexpr std::chrono::seconds kReconnectGrace{60};

// The config rollout as a route rollout the canary engine can run: stage 0
// holds the canary share for `hold`, stage 1 (100) is "every node".
config::v1::Rollout AsRouteRollout(const v1::ConfigRollout& config) {
  config::v1::Rollout rollout;
  const auto hold = config.has_hold() ? common::toMilliseconds(config.hold()) : kDefaultHold;
  const auto interval = common::toMillisecondsOr(config.evaluation_interval(), kDefaultInterval);
  auto* first = rollout.add_stages();
  first->set_weight(std::min<uint32_t>(config.canary_percent(), 100));
  first->mutable_min_duration()->set_seconds(hold.count() / 1000);
  first->mutable_min_duration()->set_nanos(static_cast<int32_t>(hold.count() % 1000) * 1000000);
  rollout.add_stages()->set_weight(100);
  *rollout.mutable_gates() = config.gates();
  if (rollout.gates().empty()) {
    auto* gate = rollout.add_gates();
    gate->set_metric(config::v1::RolloutGate::ERROR_RATIO);
    gate->set_max(0.05);
    gate->mutable_window()->set_seconds(
        std::max<int64_t>({1, hold.count() / 1000, (interval.count() + 999) / 1000}));
    gate->mutable_min_requests()->set_value(0);
  }
  if (config.has_evaluation_interval()) {
    *rollout.mutable_evaluation_interval() = config.evaluation_interval();
  } else {
    rollout.mutable_evaluation_interval()->set_seconds(kDefaultInterval.count() / 1000);
  }
  return rollout;
}

// Which share bucket (0..99) a node id falls in: the same on every control
// plane and restart.
uint32_t Bucket(const std::string& id) {
  return static_cast<uint32_t>(canary::clientHash(id, canary::splitSalt("config_rollout")) % 100);
}

std::string Utc(int64_t ms) {
  if (ms == 0) return "";
  return absl::FormatTime("%Y-%m-%dT%H:%M:%E3SZ", absl::FromUnixMillis(ms), absl::UTCTimeZone());
}

std::string_view PhaseName(int phase) {
  static constexpr std::string_view kNames[] = {"idle",     "waiting_for_acks", "holding",
                                                "promoted", "stopped",          "superseded"};
  return kNames[phase];
}

}  // namespace

ConfigRollout::ConfigRollout(event::Dispatcher& dispatcher, const v1::ConfigRollout& config,
                             const Fleet& fleet, std::function<void(bool)> on_done)
    : dispatcher_(dispatcher),
      fleet_(fleet),
      on_done_(std::move(on_done)),
      percent_(std::min<uint32_t>(config.canary_percent(), 100)),
      spec_(canary::rolloutSpecFromProto(AsRouteRollout(config))) {
  timer_ = dispatcher_.createTimer([this] { tick(); });
}

ConfigRollout::~ConfigRollout() = default;

absl::Status ConfigRollout::validate(const v1::ConfigRollout& config) {
  if (config.canary_percent() > 100) {
    return absl::InvalidArgumentError("config_rollout.canary_percent: must be 0..100");
  }
  const auto hold = common::toMilliseconds(config.hold());
  if (hold.count() < 0 || hold > std::chrono::hours(1)) {
    return absl::InvalidArgumentError("config_rollout.hold: must be 0..1h");
  }
  if (config.has_evaluation_interval()) {
    const auto interval = common::toMilliseconds(config.evaluation_interval());
    if (interval < std::chrono::milliseconds(100) || interval > std::chrono::hours(1)) {
      return absl::InvalidArgumentError("config_rollout.evaluation_interval: must be 100ms..1h");
    }
  }
  for (int i = 0; i < config.gates_size(); ++i) {
    if (config.gates(i).metric() == config::v1::RolloutGate::METRIC_UNSPECIFIED) {
      return absl::InvalidArgumentError(
          absl::StrCat("config_rollout.gates[", i, "].metric: required"));
    }
  }
  absl::Status spec =
      canary::validateRolloutSpec(canary::rolloutSpecFromProto(AsRouteRollout(config)));
  if (!spec.ok())
    return absl::InvalidArgumentError(absl::StrCat("config_rollout: ", spec.message()));
  return absl::OkStatus();
}

bool ConfigRollout::isCanary(const std::string& id) const {
  return running() && (Bucket(id) < percent_ || id == fallback_canary_);
}

std::set<std::string> ConfigRollout::canaryNodes() const {
  std::set<std::string> out;
  for (const auto& [id, node] : fleet_.nodes()) {
    if (node.streams > 0 && isCanary(id)) out.insert(id);
  }
  return out;
}

void ConfigRollout::start(std::string previous_version) {
  begin(std::move(previous_version));
  // At least one node goes first: with no connected node in the share, the
  // connected node with the lowest bucket (then id).
  bool any = false;
  std::pair<uint32_t, std::string> lowest{100, ""};
  for (const auto& [id, node] : fleet_.nodes()) {
    if (node.streams == 0) continue;
    any = any || Bucket(id) < percent_;
    lowest = std::min(lowest, std::make_pair(Bucket(id), id));
  }
  if (!any) fallback_canary_ = lowest.second;
  last_canaries_ = canaryNodes();
  LOG_INFO("config rollout: a new version goes to ", last_canaries_.size(),
           " canary node(s) first (", percent_, "%); the others keep ", previous_version_);
}

void ConfigRollout::resume(const controlplane::v1::RunningConfigRollout& saved) {
  begin(saved.previous_version());
  if (saved.started_at_ms() > 0) started_at_ms_ = saved.started_at_ms();
  fallback_canary_ = saved.fallback_canary();
  returning_canaries_ = {saved.canary_nodes().begin(), saved.canary_nodes().end()};
  returning_until_ = dispatcher_.now() + kReconnectGrace;
  reason_ = absl::StrCat("resumed after a control plane restart (first started ",
                         Utc(started_at_ms_), ")");
  last_canaries_ = canaryNodes();
  LOG_INFO("config rollout of version ", saved.candidate_version(), " ", reason_,
           "; the other nodes keep ", previous_version_);
}

void ConfigRollout::begin(std::string previous_version) {
  if (running()) supersede("superseded by a newer change of the desired config");
  phase_ = Phase::kWaitingForAcks;
  version_.clear();
  previous_version_ = std::move(previous_version);
  generation_ = UINT64_MAX;  // until published
  started_at_ms_ = common::wallClockUnixMs();
  finished_at_ms_ = 0;
  reason_.clear();
  hold_.reset();
  fallback_canary_.clear();
  returning_canaries_.clear();
  const std::chrono::seconds window = canary::maxGateWindow(spec_);
  stable_ = std::make_unique<canary::SlidingWindow>(window);
  canary_ = std::make_unique<canary::SlidingWindow>(window);
  timer_->enableTimer(spec_.evaluation_interval);
}

controlplane::v1::RunningConfigRollout ConfigRollout::savedState() const {
  controlplane::v1::RunningConfigRollout out;
  out.set_candidate_version(version_);
  out.set_previous_version(previous_version_);
  std::set<std::string> canaries = canaryNodes();
  canaries.insert(returning_canaries_.begin(), returning_canaries_.end());
  for (const std::string& id : canaries) out.add_canary_nodes(id);
  out.set_fallback_canary(fallback_canary_);
  out.set_started_at_ms(started_at_ms_);
  return out;
}

std::set<std::string> ConfigRollout::awaitedCanaries() {
  std::set<std::string> out;
  if (dispatcher_.now() >= returning_until_) {
    returning_canaries_.clear();
    return out;
  }
  for (const std::string& id : returning_canaries_) {
    auto node = fleet_.nodes().find(id);
    if (node == fleet_.nodes().end() || node->second.streams == 0) out.insert(id);
  }
  return out;
}

admin::Admin::Response ConfigRollout::control(std::string_view op, std::string_view query) {
  auto text = [](int status, std::string body) {
    return admin::Admin::Response{status, "text/plain; charset=utf-8", std::move(body) + "\n"};
  };
  const std::string name(op);
  const std::string was(PhaseName(static_cast<int>(phase_)));
  if (name != "abort" && name != "promote") {
    return text(404, absl::StrCat("unknown config rollout operation \"", name, "\""));
  }
  if (!running()) {
    return text(409, absl::StrCat("cannot ", name, ": no config rollout runs (", was, ")"));
  }
  const std::string reason = admin::queryValue(query, "reason");
  const std::string by = reason.empty() ? std::string(" by an operator (control plane admin)")
                                        : absl::StrCat(" by an operator: ", reason);
  const bool abort = name == "abort";
  finish(abort ? Phase::kStopped : Phase::kPromoted,
         absl::StrCat(abort ? "aborted" : "promoted", by));
  // The hold's view says so too (its transition is no verdict any more).
  if (abort && hold_ != nullptr) hold_->abort(dispatcher_.now(), reason_);
  return text(200,
              absl::StrCat("config rollout of version ", version_, " (", was, ") ",
                           abort ? "stopped: the canary nodes get " : "promoted: every node gets ",
                           abort ? previous_version_ : version_));
}

void ConfigRollout::supersede(std::string reason) {
  if (!running()) return;
  timer_->disableTimer();
  phase_ = Phase::kSuperseded;
  reason_ = std::move(reason);
  finished_at_ms_ = common::wallClockUnixMs();
  LOG_INFO("config rollout of version ", version_, ": ", reason_);
}

void ConfigRollout::onReport(const std::string& node_id, const service::fleet::v1::Report& report) {
  if (phase_ != Phase::kHolding) return;
  const auto now = dispatcher_.now();
  canary::SlidingWindow& window = isCanary(node_id) ? *canary_ : *stable_;
  // A new config can break any route, and most have no rollout, so only
  // reports' per-route stats would miss it: the node's total (every attempt
  // of every route) is what the gates read, instead of the per-route stats
  // and not in addition, since the total already holds those attempts. A
  // sidecar too old to send a total still counts through its routes.
  if (report.has_total()) {
    window.add(canary::fromSideStats(report.total()), now);
    return;
  }
  for (const service::fleet::v1::RouteStats& route : report.routes()) {
    window.add(canary::fromSideStats(route.stable()), now);
    window.add(canary::fromSideStats(route.canary()), now);
  }
}

void ConfigRollout::tick() {
  if (!running()) return;
  const std::set<std::string> canaries = canaryNodes();
  last_canaries_ = canaries;
  size_t acked = 0;
  for (const std::string& id : canaries) {
    const Fleet::Node& node = fleet_.nodes().at(id);
    if (node.last_nack_at_ms >= started_at_ms_ && !node.last_nack_text.empty()) {
      finish(Phase::kStopped, absl::StrCat("canary node ", id, " NACKed ", node.last_nack_type,
                                           ": ", node.last_nack_text));
      return;
    }
    if (node.synced_generation >= generation_) ++acked;
  }
  const auto now = dispatcher_.now();
  if (phase_ == Phase::kWaitingForAcks && acked == canaries.size() && awaitedCanaries().empty()) {
    phase_ = Phase::kHolding;
    LOG_INFO("config rollout: every canary node (", acked, ") ACKed version ", version_,
             "; holding");
    auto hold = canary::Rollout::create(spec_, now, this);
    if (!hold.ok()) {  // validate() checked what create() does
      finish(Phase::kStopped, std::string(hold.status().message()));
      return;
    }
    hold_ = std::move(*hold);
  } else if (phase_ == Phase::kHolding) {
    hold_->evaluate(now, *stable_, *canary_);
    if (!running()) return;  // the evaluation finished it
  }
  timer_->enableTimer(spec_.evaluation_interval);
}

void ConfigRollout::onTransition(const canary::Rollout& rollout,
                                 const canary::HistoryEntry& entry) {
  if (entry.to_state == canary::RolloutState::kCompleted) {
    finish(Phase::kPromoted, absl::StrCat("canary nodes healthy for the hold: ", entry.reason));
  } else if (entry.to_state == canary::RolloutState::kRolledBack) {
    finish(Phase::kStopped, entry.reason);
  }
}

void ConfigRollout::finish(Phase phase, std::string reason) {
  timer_->disableTimer();
  phase_ = phase;
  reason_ = std::move(reason);
  finished_at_ms_ = common::wallClockUnixMs();
  const bool promoted = phase == Phase::kPromoted;
  if (promoted) {
    LOG_INFO("config rollout: version ", version_, " promoted to every node (", reason_, ")");
  } else {
    LOG_WARN("config rollout: version ", version_, " stopped (", reason_,
             "); the canary nodes get ", previous_version_, " back");
  }
  dispatcher_.post([this, promoted] { on_done_(promoted); });
}

admin::v1::ConfigRolloutView ConfigRollout::status() const {
  admin::v1::ConfigRolloutView out;
  out.set_phase(std::string(PhaseName(static_cast<int>(phase_))));
  out.set_version(version_);
  out.set_previous_version(previous_version_);
  out.set_canary_percent(percent_);
  uint32_t acked = 0;
  for (const std::string& id : running() ? canaryNodes() : last_canaries_) {
    out.add_canary_nodes(id);
    auto node = fleet_.nodes().find(id);
    if (node != fleet_.nodes().end() && node->second.synced_generation >= generation_) ++acked;
  }
  out.set_canary_nodes_acked(acked);
  out.set_reason(reason_);
  out.set_started_at(Utc(started_at_ms_));
  out.set_finished_at(Utc(finished_at_ms_));
  if (hold_ != nullptr) {
    *out.mutable_hold() = canary::rolloutStatus("config", *hold_, dispatcher_.now(),
                                                std::chrono::system_clock::now());
  }
  return out;
}

}  // namespace modgate::control_plane
