#include "source/canary/rollout_status.h"

#include <cstdio>
#include <ctime>

#include "source/common/json/proto_json.h"

namespace modgate::canary {
namespace {

double seconds(std::chrono::nanoseconds duration) {
  return json::Round6(std::chrono::duration<double>(duration).count());
}

// RFC 3339 in UTC with milliseconds: 2024-05-01T12:00:00.123Z.
std::string wallTime(MonotonicTime time, MonotonicTime now, SystemTime wall_now) {
  auto wall = wall_now - std::chrono::duration_cast<SystemTime::duration>(now - time);
  auto millis =
      std::chrono::duration_cast<std::chrono::milliseconds>(wall.time_since_epoch()).count();
  std::time_t secs = static_cast<std::time_t>(millis / 1000);
  int64_t rest = millis % 1000;
  if (rest < 0) {
    rest += 1000;
    secs -= 1;
  }
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buffer[80];
  std::snprintf(buffer, sizeof(buffer), "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
                tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                static_cast<int>(rest));
  return buffer;
}

void fillGate(admin::v1::Gate& gate, const GateSpec& spec, const GateResult* result) {
  const bool relative = spec.mode == ThresholdMode::kRelativeToStable;
  gate.set_kind(std::string(gateKindName(spec.kind)));
  gate.set_mode(std::string(thresholdModeName(spec.mode)));
  gate.set_limit(json::Round6(spec.limit));
  if (relative) gate.set_stable_factor(json::Round6(spec.stable_factor));
  gate.set_window_seconds(static_cast<uint32_t>(spec.window.count()));
  gate.set_min_requests(static_cast<uint32_t>(spec.min_requests));
  if (result == nullptr) return;
  gate.set_verdict(std::string(gateVerdictName(result->verdict)));
  gate.set_canary_value(json::Round6(result->canary_value));
  // No threshold or stable value (absent) when the stable side had none.
  if (result->threshold.has_value()) gate.set_threshold(json::Round6(*result->threshold));
  gate.set_canary_requests(static_cast<uint32_t>(result->canary_requests));
  if (relative) {
    if (result->stable_value.has_value()) {
      gate.set_stable_value(json::Round6(*result->stable_value));
    }
    gate.set_stable_value_remembered(result->stable_value_remembered);
    gate.set_stable_requests(static_cast<uint32_t>(result->stable_requests));
  }
}

}  // namespace

admin::v1::Rollout rolloutStatus(std::string_view name, const Rollout& rollout, MonotonicTime now,
                                 SystemTime wall_now) {
  const RolloutSpec& spec = rollout.spec();
  admin::v1::Rollout out;
  out.set_name(std::string(name));
  out.set_state(std::string(rolloutStateName(rollout.state())));
  out.set_canary_weight(rollout.currentCanaryWeight());
  out.set_stage(static_cast<uint32_t>(rollout.stageIndex()));
  out.set_stage_entered_at(wallTime(rollout.stageEnteredAt(), now, wall_now));
  out.set_stage_age_seconds(seconds(now - rollout.stageEnteredAt()));
  if (rollout.lastEvaluatedAt().has_value()) {
    out.set_last_evaluated_at(wallTime(*rollout.lastEvaluatedAt(), now, wall_now));
  }
  out.set_evaluation_interval_seconds(seconds(spec.evaluation_interval));
  out.set_evaluations(static_cast<uint32_t>(rollout.evaluations()));
  if (!rollout.history().empty()) out.set_reason(rollout.history().back().reason);
  for (const Stage& stage : spec.stages) {
    admin::v1::Stage& added = *out.add_stages();
    added.set_weight(stage.canary_weight_percent);
    added.set_min_duration_seconds(seconds(stage.min_duration));
  }
  const std::vector<GateResult>& results = rollout.gateResults();
  for (size_t i = 0; i < spec.gates.size(); ++i) {
    fillGate(*out.add_gates(), spec.gates[i], i < results.size() ? &results[i] : nullptr);
  }
  for (const HistoryEntry& entry : rollout.history()) {
    admin::v1::HistoryEntry& added = *out.add_history();
    added.set_time(wallTime(entry.time, now, wall_now));
    added.set_age_seconds(seconds(now - entry.time));
    added.set_from_state(std::string(rolloutStateName(entry.from_state)));
    added.set_to_state(std::string(rolloutStateName(entry.to_state)));
    added.set_from_stage(static_cast<uint32_t>(entry.from_stage));
    added.set_to_stage(static_cast<uint32_t>(entry.to_stage));
    added.set_from_weight(entry.from_weight);
    added.set_to_weight(entry.to_weight);
    added.set_reason(entry.reason);
  }
  return out;
}

admin::v1::Rollouts rolloutsStatus(const std::vector<NamedRollout>& rollouts, MonotonicTime now,
                                   SystemTime wall_now) {
  admin::v1::Rollouts out;
  for (const NamedRollout& named : rollouts) {
    if (named.rollout != nullptr) {
      *out.add_rollouts() = rolloutStatus(named.name, *named.rollout, now, wall_now);
    }
  }
  return out;
}

}  // namespace modgate::canary
