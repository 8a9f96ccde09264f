#pragma once

#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/registry.h>

#include <map>
#include <string>
#include <vector>

#include "source/canary/rollout.h"

namespace modgate::canary {

// The metric families of a process's rollouts (modgate_rollout_*): canary
// weight, stage, state, and each gate's last value and verdict, labelled
// by route. A sidecar and the control plane register the same names.
struct RolloutGaugeFamilies {
  explicit RolloutGaugeFamilies(prometheus::Registry& registry);

  prometheus::Family<prometheus::Gauge>& weight;
  prometheus::Family<prometheus::Gauge>& stage;
  prometheus::Family<prometheus::Gauge>& state;
  prometheus::Family<prometheus::Gauge>& gate_value;
  prometheus::Family<prometheus::Gauge>& gate_verdict;
};

// One route's gauges in those families.
class RolloutGauges {
 public:
  // `spec`: the gates to make gauges for; null for a rollout run elsewhere
  // (weight and stage only).
  RolloutGauges(RolloutGaugeFamilies& families, const std::string& route, const RolloutSpec* spec);

  // Everything from the rollout's current state.
  void update(const Rollout& rollout) const;
  // Weight and stage only.
  void set(uint32_t weight, size_t stage) const;

 private:
  prometheus::Gauge* weight_;
  prometheus::Gauge* stage_;
  std::map<RolloutState, prometheus::Gauge*> states_;
  std::vector<prometheus::Gauge*> gate_values_;
  std::vector<prometheus::Gauge*> gate_verdicts_;
};

}  // namespace modgate::canary
