#include "source/canary/rollout_gauges.h"

#include "absl/strings/str_cat.h"

namespace modgate::canary {

RolloutGaugeFamilies::RolloutGaugeFamilies(prometheus::Registry& registry)
    : weight(prometheus::BuildGauge()
                 .Name("modgate_rollout_canary_weight")
                 .Help("Percent of clients a rollout sends to its canary cluster")
                 .Register(registry)),
      stage(prometheus::BuildGauge()
                .Name("modgate_rollout_stage")
                .Help("Index of a rollout's current stage")
                .Register(registry)),
      state(prometheus::BuildGauge()
                .Name("modgate_rollout_state")
                .Help("1 for a rollout's current state, 0 for the others")
                .Register(registry)),
      gate_value(prometheus::BuildGauge()
                     .Name("modgate_rollout_gate_value")
                     .Help("The canary's value of each rollout gate at the last evaluation")
                     .Register(registry)),
      gate_verdict(prometheus::BuildGauge()
                       .Name("modgate_rollout_gate_passing")
                       .Help("1 pass, 0 fail, -1 not enough data, per rollout gate")
                       .Register(registry)) {}

RolloutGauges::RolloutGauges(RolloutGaugeFamilies& families, const std::string& route,
                             const RolloutSpec* spec) {
  const std::map<std::string, std::string> labels{{"route", route}};
  weight_ = &families.weight.Add(labels);
  stage_ = &families.stage.Add(labels);
  if (spec == nullptr) return;
  for (auto s : {RolloutState::kProgressing, RolloutState::kPaused, RolloutState::kCompleted,
                 RolloutState::kRolledBack, RolloutState::kAborted}) {
    states_[s] =
        &families.state.Add({{"route", route}, {"state", std::string(rolloutStateName(s))}});
  }
  for (size_t g = 0; g < spec->gates.size(); ++g) {
    const std::map<std::string, std::string> gate_labels{
        {"route", route},
        {"gate", absl::StrCat(g, "_", std::string(gateKindName(spec->gates[g].kind)))}};
    gate_values_.push_back(&families.gate_value.Add(gate_labels));
    gate_verdicts_.push_back(&families.gate_verdict.Add(gate_labels));
  }
}

void RolloutGauges::set(uint32_t weight, size_t stage) const {
  weight_->Set(weight);
  stage_->Set(static_cast<double>(stage));
}

void RolloutGauges::update(const Rollout& rollout) const {
  set(rollout.currentCanaryWeight(), rollout.stageIndex());
  for (const auto& [s, gauge] : states_) gauge->Set(s == rollout.state() ? 1 : 0);
  const auto& results = rollout.gateResults();
  for (size_t g = 0; g < gate_values_.size(); ++g) {
    if (g >= results.size()) {
      gate_verdicts_[g]->Set(-1);
      continue;
    }
    gate_values_[g]->Set(results[g].canary_value);
    gate_verdicts_[g]->Set(results[g].verdict == GateVerdict::kPass   ? 1
                           : results[g].verdict == GateVerdict::kFail ? 0
                                                                      : -1);
  }
}

}  // namespace modgate::canary
