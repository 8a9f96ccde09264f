#include "source/canary/rollout_spec.h"

#include <cmath>
#include <string>

namespace modgate::canary {
namespace {

absl::Status invalid(const std::string& message) { return absl::InvalidArgumentError(message); }

}  // namespace

GateSpec GateSpec::absolute(GateKind kind, double limit, std::chrono::seconds window,
                            uint64_t min_requests) {
  GateSpec gate;
  gate.kind = kind;
  gate.mode = ThresholdMode::kAbsolute;
  gate.limit = limit;
  gate.window = window;
  gate.min_requests = min_requests;
  return gate;
}

GateSpec GateSpec::relativeToStable(GateKind kind, double stable_factor, double limit,
                                    std::chrono::seconds window, uint64_t min_requests) {
  GateSpec gate = absolute(kind, limit, window, min_requests);
  gate.mode = ThresholdMode::kRelativeToStable;
  gate.stable_factor = stable_factor;
  return gate;
}

absl::Status validateRolloutSpec(const RolloutSpec& spec) {
  if (spec.stages.empty()) return invalid("a rollout needs at least one stage");
  uint32_t previous = 0;
  for (size_t i = 0; i < spec.stages.size(); ++i) {
    const Stage& stage = spec.stages[i];
    std::string where = "stage " + std::to_string(i) + ": ";
    if (stage.canary_weight_percent > 100) return invalid(where + "weight above 100");
    if (stage.canary_weight_percent < previous) {
      return invalid(where + "weight below the previous stage's; weights must not decrease");
    }
    if (stage.min_duration.count() < 0) return invalid(where + "negative min_duration");
    previous = stage.canary_weight_percent;
  }
  if (spec.stages.back().canary_weight_percent != 100) {
    return invalid("the last stage must have weight 100");
  }
  if (spec.evaluation_interval.count() <= 0) {
    return invalid("evaluation_interval must be positive");
  }
  for (size_t i = 0; i < spec.gates.size(); ++i) {
    const GateSpec& gate = spec.gates[i];
    std::string where =
        "gate " + std::to_string(i) + " (" + std::string(gateKindName(gate.kind)) + "): ";
    if (!std::isfinite(gate.limit) || gate.limit < 0) {
      return invalid(where + "limit must be a finite number >= 0");
    }
    if (!std::isfinite(gate.stable_factor) || gate.stable_factor < 0) {
      return invalid(where + "stable_factor must be a finite number >= 0");
    }
    if (gate.window.count() <= 0) return invalid(where + "window must be positive");
    if (gate.window < spec.evaluation_interval) {
      return invalid(where + "window shorter than evaluation_interval");
    }
    if (gate.kind == GateKind::kContentMismatch && gate.mode != ThresholdMode::kAbsolute) {
      // The stable cluster is never shadowed: there is no baseline to use.
      return invalid(where + "content_mismatch takes an absolute limit only");
    }
    if (gate.kind == GateKind::kErrorRatio && gate.mode == ThresholdMode::kAbsolute &&
        gate.limit > 1) {
      return invalid(where + "an error ratio limit is at most 1");
    }
  }
  return absl::OkStatus();
}

std::string_view gateKindName(GateKind kind) {
  switch (kind) {
    case GateKind::kErrorRatio:
      return "error_ratio";
    case GateKind::kP99Latency:
      return "p99_latency";
    case GateKind::kContentMismatch:
      return "content_mismatch";
  }
  return "unknown";
}

std::string_view thresholdModeName(ThresholdMode mode) {
  switch (mode) {
    case ThresholdMode::kAbsolute:
      return "absolute";
    case ThresholdMode::kRelativeToStable:
      return "relative_to_stable";
  }
  return "unknown";
}

}  // namespace modgate::canary
