#include "source/canary/rollout_config.h"

#include <algorithm>

namespace modgate::canary {
namespace {

namespace v1 = config::v1;

std::chrono::milliseconds toMillis(const google::protobuf::Duration& d) {
  return std::chrono::milliseconds(d.seconds() * 1000 + d.nanos() / 1000000);
}

GateKind gateKind(v1::RolloutGate::Metric metric) {
  switch (metric) {
    case v1::RolloutGate::P99_LATENCY_MS:
      return GateKind::kP99Latency;
    case v1::RolloutGate::CONTENT_MISMATCH:
      return GateKind::kContentMismatch;
    default:
      return GateKind::kErrorRatio;
  }
}

}  // namespace

RolloutSpec rolloutSpecFromProto(const v1::Rollout& rollout) {
  RolloutSpec spec;
  for (const v1::RolloutStage& stage : rollout.stages()) {
    spec.stages.push_back(Stage{stage.weight(), toMillis(stage.min_duration())});
  }
  for (const v1::RolloutGate& gate : rollout.gates()) {
    const auto window = std::chrono::seconds(
        gate.has_window() ? std::max<int64_t>(1, gate.window().seconds()) : 60);
    const uint64_t min_requests = gate.has_min_requests() ? gate.min_requests().value() : 100;
    const GateKind kind = gateKind(gate.metric());
    spec.gates.push_back(gate.relative_to_stable()
                             ? GateSpec::relativeToStable(
                                   kind,
                                   gate.has_stable_factor() ? gate.stable_factor().value() : 1.0,
                                   gate.max(), window, min_requests)
                             : GateSpec::absolute(kind, gate.max(), window, min_requests));
  }
  if (rollout.has_evaluation_interval()) {
    spec.evaluation_interval = toMillis(rollout.evaluation_interval());
  }
  return spec;
}

std::chrono::seconds maxGateWindow(const RolloutSpec& spec) {
  std::chrono::seconds widest(60);
  for (const GateSpec& gate : spec.gates) widest = std::max(widest, gate.window);
  return widest;
}

std::optional<bool> applyOperation(Rollout& rollout, std::string_view op, MonotonicTime now,
                                   std::string reason) {
  if (op == "pause") return rollout.pause(now, std::move(reason));
  if (op == "resume") return rollout.resume(now, std::move(reason));
  if (op == "advance") return rollout.advance(now, std::move(reason));
  if (op == "abort") return rollout.abort(now, std::move(reason));
  if (op == "restart") return rollout.restart(now, std::move(reason));
  return std::nullopt;
}

}  // namespace modgate::canary
