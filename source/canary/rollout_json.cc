#include "source/canary/rollout_json.h"

#include <cmath>
#include <cstdio>
#include <ctime>
#include <optional>

namespace modgate::canary {
namespace {

// Just enough of a JSON writer for this page: the caller opens and closes
// objects and arrays, the writer places commas.
class JsonWriter {
 public:
  void beginObject() { open('{'); }
  void endObject() { close('}'); }
  void beginArray() { open('['); }
  void endArray() { close(']'); }

  void key(std::string_view name) {
    comma();
    string(name);
    out_ += ':';
    after_key_ = true;
  }

  void value(std::string_view text) {
    comma();
    string(text);
  }
  void value(const char* text) { value(std::string_view(text)); }
  void value(bool flag) {
    comma();
    out_ += flag ? "true" : "false";
  }
  void value(uint64_t number) {
    comma();
    out_ += std::to_string(number);
  }
  void value(double number) {
    comma();
    // JSON has no NaN or infinity.
    if (!std::isfinite(number)) {
      out_ += "null";
      return;
    }
    char buffer[32];
    std::snprintf(buffer, sizeof(buffer), "%.6g", number);
    out_ += buffer;
  }
  void value(std::optional<double> number) {
    if (number.has_value()) {
      value(*number);
    } else {
      null();
    }
  }
  void null() {
    comma();
    out_ += "null";
  }

  template <typename T>
  void field(std::string_view name, T v) {
    key(name);
    value(v);
  }

  std::string take() { return std::move(out_); }

 private:
  void open(char bracket) {
    comma();
    out_ += bracket;
    first_ = true;
  }
  void close(char bracket) {
    out_ += bracket;
    first_ = false;
  }
  void comma() {
    if (after_key_) {
      after_key_ = false;
      return;
    }
    if (!first_) out_ += ',';
    first_ = false;
  }
  void string(std::string_view text) {
    out_ += '"';
    for (char c : text) {
      switch (c) {
        case '"':
          out_ += "\\\"";
          break;
        case '\\':
          out_ += "\\\\";
          break;
        case '\n':
          out_ += "\\n";
          break;
        case '\r':
          out_ += "\\r";
          break;
        case '\t':
          out_ += "\\t";
          break;
        default:
          if (static_cast<unsigned char>(c) < 0x20) {
            char buffer[8];
            std::snprintf(buffer, sizeof(buffer), "\\u%04x", static_cast<unsigned>(c));
            out_ += buffer;
          } else {
            out_ += c;
          }
      }
    }
    out_ += '"';
  }

  std::string out_;
  bool first_ = true;
  bool after_key_ = false;
};

double seconds(std::chrono::nanoseconds duration) {
  return std::chrono::duration<double>(duration).count();
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

void writeGate(JsonWriter& json, const GateSpec& spec, const GateResult* result) {
  json.beginObject();
  json.field("kind", gateKindName(spec.kind));
  json.field("mode", thresholdModeName(spec.mode));
  json.field("limit", spec.limit);
  if (spec.mode == ThresholdMode::kRelativeToStable)
    json.field("stable_factor", spec.stable_factor);
  json.field("window_seconds", static_cast<uint64_t>(spec.window.count()));
  json.field("min_requests", spec.min_requests);
  if (result == nullptr) {
    json.key("verdict");
    json.null();
  } else {
    json.field("verdict", gateVerdictName(result->verdict));
    json.field("canary_value", result->canary_value);
    json.field("threshold", result->threshold);
    json.field("canary_requests", result->canary_requests);
    if (spec.mode == ThresholdMode::kRelativeToStable) {
      json.field("stable_value", result->stable_value);
      json.field("stable_value_remembered", result->stable_value_remembered);
      json.field("stable_requests", result->stable_requests);
    }
  }
  json.endObject();
}

void writeRollout(JsonWriter& json, std::string_view name, const Rollout& rollout,
                  MonotonicTime now, SystemTime wall_now) {
  const RolloutSpec& spec = rollout.spec();
  json.beginObject();
  json.field("name", name);
  json.field("state", rolloutStateName(rollout.state()));
  json.field("canary_weight", static_cast<uint64_t>(rollout.currentCanaryWeight()));
  json.field("stage", static_cast<uint64_t>(rollout.stageIndex()));
  json.field("stage_entered_at", wallTime(rollout.stageEnteredAt(), now, wall_now));
  json.field("stage_age_seconds", seconds(now - rollout.stageEnteredAt()));
  json.key("last_evaluated_at");
  if (rollout.lastEvaluatedAt().has_value()) {
    json.value(wallTime(*rollout.lastEvaluatedAt(), now, wall_now));
  } else {
    json.null();
  }
  json.field("evaluation_interval_seconds", seconds(spec.evaluation_interval));
  json.field("evaluations", rollout.evaluations());
  json.field("reason", rollout.history().empty()
                           ? std::string_view()
                           : std::string_view(rollout.history().back().reason));

  json.key("stages");
  json.beginArray();
  for (const Stage& stage : spec.stages) {
    json.beginObject();
    json.field("weight", static_cast<uint64_t>(stage.canary_weight_percent));
    json.field("min_duration_seconds", seconds(stage.min_duration));
    json.endObject();
  }
  json.endArray();

  json.key("gates");
  json.beginArray();
  const std::vector<GateResult>& results = rollout.gateResults();
  for (size_t i = 0; i < spec.gates.size(); ++i) {
    writeGate(json, spec.gates[i], i < results.size() ? &results[i] : nullptr);
  }
  json.endArray();

  json.key("history");
  json.beginArray();
  for (const HistoryEntry& entry : rollout.history()) {
    json.beginObject();
    json.field("time", wallTime(entry.time, now, wall_now));
    json.field("age_seconds", seconds(now - entry.time));
    json.field("from_state", rolloutStateName(entry.from_state));
    json.field("to_state", rolloutStateName(entry.to_state));
    json.field("from_stage", static_cast<uint64_t>(entry.from_stage));
    json.field("to_stage", static_cast<uint64_t>(entry.to_stage));
    json.field("from_weight", static_cast<uint64_t>(entry.from_weight));
    json.field("to_weight", static_cast<uint64_t>(entry.to_weight));
    json.field("reason", std::string_view(entry.reason));
    json.endObject();
  }
  json.endArray();
  json.endObject();
}

}  // namespace

std::string renderRolloutJson(std::string_view name, const Rollout& rollout, MonotonicTime now,
                              SystemTime wall_now) {
  JsonWriter json;
  writeRollout(json, name, rollout, now, wall_now);
  return json.take();
}

std::string renderRolloutsJson(const std::vector<NamedRollout>& rollouts, MonotonicTime now,
                               SystemTime wall_now) {
  JsonWriter json;
  json.beginObject();
  json.key("rollouts");
  json.beginArray();
  for (const NamedRollout& named : rollouts) {
    if (named.rollout != nullptr) writeRollout(json, named.name, *named.rollout, now, wall_now);
  }
  json.endArray();
  json.endObject();
  return json.take();
}

}  // namespace modgate::canary
