#include "source/canary/gate.h"

#include <cstdio>

namespace modgate::canary {
namespace {

double valueOf(GateKind kind, const WindowSnapshot& window) {
  switch (kind) {
    case GateKind::kErrorRatio:
      return window.error_ratio;
    case GateKind::kP99Latency:
      return window.p99_ms;
    case GateKind::kContentMismatch:
      return static_cast<double>(window.mismatches);
  }
  return 0;
}

uint64_t requestsOf(GateKind kind, const WindowSnapshot& window) {
  return kind == GateKind::kContentMismatch ? window.shadow_comparisons : window.requests;
}

std::string number(double value) {
  char buffer[32];
  std::snprintf(buffer, sizeof(buffer), "%.4g", value);
  return buffer;
}

}  // namespace

GateResult evaluateGate(const GateSpec& spec, const WindowSnapshot& stable,
                        const WindowSnapshot& canary, std::optional<double> remembered_baseline) {
  GateResult result;
  result.spec = spec;
  result.canary_value = valueOf(spec.kind, canary);
  result.canary_requests = requestsOf(spec.kind, canary);
  result.stable_requests = requestsOf(spec.kind, stable);

  if (spec.mode == ThresholdMode::kAbsolute) {
    result.threshold = spec.limit;
  } else if (result.stable_requests >= spec.min_requests && result.stable_requests > 0) {
    result.stable_value = valueOf(spec.kind, stable);
  } else if (remembered_baseline.has_value()) {
    result.stable_value = remembered_baseline;
    result.stable_value_remembered = true;
  }
  if (result.stable_value.has_value()) {
    result.threshold = *result.stable_value * spec.stable_factor + spec.limit;
  }

  // A mismatch is proof, not a statistic: no sample size makes it acceptable.
  if (spec.kind == GateKind::kContentMismatch && result.threshold.has_value() &&
      result.canary_value > *result.threshold) {
    result.verdict = GateVerdict::kFail;
    return result;
  }
  if (result.canary_requests < spec.min_requests || !result.threshold.has_value()) {
    result.verdict = GateVerdict::kInsufficientData;
    return result;
  }
  result.verdict =
      result.canary_value <= *result.threshold ? GateVerdict::kPass : GateVerdict::kFail;
  return result;
}

std::string GateResult::describe() const {
  std::string out(gateKindName(spec.kind));
  out += ' ';
  out += number(canary_value);
  switch (verdict) {
    case GateVerdict::kPass:
      out += " <= ";
      break;
    case GateVerdict::kFail:
      out += " > ";
      break;
    case GateVerdict::kInsufficientData:
      out += " vs ";
      break;
  }
  out += threshold.has_value() ? number(*threshold) : std::string("unknown");
  out += " (";
  if (spec.mode == ThresholdMode::kRelativeToStable) {
    out += "stable ";
    out += stable_value.has_value() ? number(*stable_value) : std::string("unknown");
    if (stable_value_remembered) out += " remembered";
    out += " x " + number(spec.stable_factor) + " + " + number(spec.limit) + "; ";
  }
  out += std::to_string(canary_requests);
  out += spec.kind == GateKind::kContentMismatch ? " comparisons" : " requests";
  out += " in " + std::to_string(spec.window.count()) + "s";
  if (verdict == GateVerdict::kInsufficientData) {
    out += ", need " + std::to_string(spec.min_requests);
  }
  out += ')';
  return out;
}

std::string_view gateVerdictName(GateVerdict verdict) {
  switch (verdict) {
    case GateVerdict::kPass:
      return "pass";
    case GateVerdict::kFail:
      return "fail";
    case GateVerdict::kInsufficientData:
      return "insufficient_data";
  }
  return "unknown";
}

}  // namespace modgate::canary
