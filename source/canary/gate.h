#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "source/canary/outcome_window.h"
#include "source/canary/rollout_spec.h"

namespace modgate::canary {

enum class GateVerdict {
  kPass,
  kFail,
  // Too few requests (or no stable baseline yet): the gate holds the stage
  // without failing it.
  kInsufficientData,
};

// One gate's evaluation, kept by the rollout for metrics and the admin page.
struct GateResult {
  GateSpec spec;
  GateVerdict verdict = GateVerdict::kInsufficientData;
  // Error ratio, p99 in ms, or mismatch count, per the gate's kind.
  double canary_value = 0;
  // Relative gates: the stable value compared with, and whether it came
  // from an earlier evaluation because the stable cluster has too little
  // traffic now (as at weight 100).
  std::optional<double> stable_value;
  bool stable_value_remembered = false;
  // The limit the canary value was held to, once known.
  std::optional<double> threshold;
  // Requests in the windows (shadow comparisons for the content gate).
  uint64_t canary_requests = 0;
  uint64_t stable_requests = 0;

  // "error_ratio 0.05 > 0.011 (stable 0.001 x 1 + 0.01; 412 requests in 30s)",
  // for history reasons and log lines.
  std::string describe() const;
};

// Evaluates `spec` on the two clusters' windows. `remembered_baseline` is the
// stable value from the last evaluation that had one; a relative gate uses it
// when `stable` lacks min_requests. Pure: same inputs, same result.
GateResult evaluateGate(const GateSpec& spec, const WindowSnapshot& stable,
                        const WindowSnapshot& canary, std::optional<double> remembered_baseline);

std::string_view gateVerdictName(GateVerdict verdict);

}  // namespace modgate::canary
