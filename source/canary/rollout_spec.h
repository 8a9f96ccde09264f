#pragma once

#include <chrono>
#include <cstdint>
#include <string_view>
#include <vector>

#include "absl/status/status.h"

namespace modgate::canary {

// One step of a rollout: hold the canary at `canary_weight_percent` for at
// least `min_duration`, and longer until every gate passes.
struct Stage {
  uint32_t canary_weight_percent = 0;
  std::chrono::milliseconds min_duration{0};
};

enum class GateKind {
  // Canary's (5xx + upstream failures) / requests.
  kErrorRatio,
  // Canary's p99 latency in milliseconds.
  kP99Latency,
  // Shadow comparisons that found different bytes. One mismatch means the
  // canary serves different content for an immutable version: conclusive on
  // its own, so this gate fails without waiting for min_requests.
  kContentMismatch,
};

enum class ThresholdMode {
  // canary value <= limit.
  kAbsolute,
  // canary value <= stable value * stable_factor + limit: "error ratio at
  // most stable + 0.01" is (factor 1, limit 0.01), "p99 at most 1.5 x
  // stable" is (factor 1.5, limit 0).
  kRelativeToStable,
};

struct GateSpec {
  GateKind kind = GateKind::kErrorRatio;
  ThresholdMode mode = ThresholdMode::kAbsolute;
  double limit = 0;
  double stable_factor = 1;
  std::chrono::seconds window{60};
  // Below this many canary requests in the window (shadow comparisons for
  // the content gate) the gate neither passes nor fails. A relative gate also
  // needs this many stable requests for a fresh baseline.
  uint64_t min_requests = 100;

  static GateSpec absolute(GateKind kind, double limit, std::chrono::seconds window,
                           uint64_t min_requests);
  static GateSpec relativeToStable(GateKind kind, double stable_factor, double limit,
                                   std::chrono::seconds window, uint64_t min_requests);
};

struct RolloutSpec {
  // Non-decreasing weights ending at 100: clients only ever move from stable
  // to canary while the rollout progresses (see TrafficSplit). A first stage
  // at weight 0 is a shadow-only stage: the content gate can fail before any
  // client is served by the canary; the outcomes of shadow requests belong
  // in the canary's window too, so its error and latency gates have data.
  std::vector<Stage> stages;
  std::vector<GateSpec> gates;
  // How often the main thread should call Rollout::evaluate(). Every gate's
  // window must be at least this long so no outcome falls between two
  // evaluations.
  std::chrono::milliseconds evaluation_interval{10000};
};

// Why `spec` cannot drive a rollout, or OK.
absl::Status validateRolloutSpec(const RolloutSpec& spec);

// "error_ratio", "p99_latency", "content_mismatch": for JSON, logs, metrics.
std::string_view gateKindName(GateKind kind);
std::string_view thresholdModeName(ThresholdMode mode);

}  // namespace modgate::canary
