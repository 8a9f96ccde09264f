#include "source/control_plane/rollout_state_file.h"

#include <dirent.h>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "google/protobuf/util/json_util.h"
#include "source/common/filesystem/atomic_file.h"

namespace modgate::control_plane {
namespace {

namespace v1 = controlplane::v1;

constexpr char kSuffix[] = ".json";

bool PlainByte(char c) {
  return absl::ascii_isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '_' || c == '-';
}

std::string EscapeName(const std::string& route) {
  std::string out;
  for (char c : route) {
    // A leading '.' would hide the file (and ".." is no name).
    if (PlainByte(c) && !(out.empty() && c == '.')) {
      out += c;
    } else {
      absl::StrAppendFormat(&out, "%%%02X", static_cast<unsigned char>(c));
    }
  }
  return out;
}

std::optional<std::string> UnescapeName(const std::string& name) {
  std::string out;
  for (size_t i = 0; i < name.size(); ++i) {
    if (name[i] != '%') {
      out += name[i];
      continue;
    }
    int value = 0;
    if (i + 2 >= name.size() || !absl::SimpleHexAtoi(name.substr(i + 1, 2), &value)) {
      return std::nullopt;
    }
    out += static_cast<char>(value);
    i += 2;
  }
  return out;
}

int64_t WallMs(canary::MonotonicTime time, canary::MonotonicTime now, canary::SystemTime wall_now) {
  const auto wall = wall_now - std::chrono::duration_cast<canary::SystemTime::duration>(now - time);
  return std::chrono::duration_cast<std::chrono::milliseconds>(wall.time_since_epoch()).count();
}

canary::MonotonicTime Monotonic(int64_t wall_ms, canary::MonotonicTime now,
                                canary::SystemTime wall_now) {
  const canary::SystemTime wall{std::chrono::milliseconds(wall_ms)};
  return now - std::chrono::duration_cast<canary::MonotonicTime::duration>(wall_now - wall);
}

}  // namespace

std::string RolloutStatePath(const std::string& state_dir, const std::string& route) {
  return absl::StrCat(state_dir, "/rollouts/", EscapeName(route), kSuffix);
}

std::vector<std::string> RolloutStateRoutes(const std::string& state_dir) {
  std::vector<std::string> routes;
  const std::string dir = absl::StrCat(state_dir, "/rollouts");
  DIR* handle = opendir(dir.c_str());
  if (handle == nullptr) return routes;
  while (dirent* entry = readdir(handle)) {
    std::string name = entry->d_name;
    if (name.empty() || name[0] == '.' || !absl::EndsWith(name, kSuffix)) continue;
    name.resize(name.size() - (sizeof(kSuffix) - 1));
    if (std::optional<std::string> route = UnescapeName(name)) routes.push_back(*route);
  }
  closedir(handle);
  return routes;
}

v1::FleetRolloutState RolloutStateOf(const std::string& route, std::string spec_hash,
                                     const canary::Rollout& rollout, canary::MonotonicTime now,
                                     canary::SystemTime wall_now,
                                     const std::string& control_plane) {
  v1::FleetRolloutState out;
  out.set_route(std::string(route));
  out.set_spec_hash(std::move(spec_hash));
  out.set_state(std::string(canary::rolloutStateName(rollout.state())));
  out.set_stage(static_cast<uint32_t>(rollout.stageIndex()));
  out.set_canary_weight(rollout.currentCanaryWeight());
  out.set_stage_entered_at_ms(WallMs(rollout.stageEnteredAt(), now, wall_now));
  for (const canary::HistoryEntry& entry : rollout.history()) {
    v1::FleetRolloutTransition& saved = *out.add_history();
    saved.set_at_ms(WallMs(entry.time, now, wall_now));
    saved.set_from_state(std::string(canary::rolloutStateName(entry.from_state)));
    saved.set_to_state(std::string(canary::rolloutStateName(entry.to_state)));
    saved.set_from_stage(static_cast<uint32_t>(entry.from_stage));
    saved.set_to_stage(static_cast<uint32_t>(entry.to_stage));
    saved.set_from_weight(entry.from_weight);
    saved.set_to_weight(entry.to_weight);
    saved.set_reason(entry.reason);
  }
  out.set_saved_at_ms(
      std::chrono::duration_cast<std::chrono::milliseconds>(wall_now.time_since_epoch()).count());
  out.set_control_plane(std::string(control_plane));
  return out;
}

absl::Status SaveStateJson(const std::string& path, const google::protobuf::Message& state) {
  std::string json;
  google::protobuf::util::JsonPrintOptions options;
  options.add_whitespace = true;
  options.preserve_proto_field_names = true;
  if (!google::protobuf::util::MessageToJsonString(state, &json, options).ok()) {
    return absl::InternalError(absl::StrCat("cannot print ", state.GetDescriptor()->name()));
  }
  return filesystem::WriteFileAtomically(path, json);
}

absl::StatusOr<bool> LoadStateJson(const std::string& path, std::string_view what,
                                   google::protobuf::Message& state) {
  absl::StatusOr<std::optional<std::string>> bytes = filesystem::ReadSmallFile(path);
  if (!bytes.ok()) return bytes.status();
  if (!bytes->has_value()) return false;
  auto parsed = google::protobuf::util::JsonStringToMessage(**bytes, &state);
  if (!parsed.ok()) {
    return absl::DataLossError(
        absl::StrCat(path, ": not ", std::string(what), ": ", std::string(parsed.message())));
  }
  return true;
}

absl::Status SaveRolloutState(const std::string& path, const v1::FleetRolloutState& state) {
  return SaveStateJson(path, state);
}

absl::StatusOr<std::optional<v1::FleetRolloutState>> LoadRolloutState(const std::string& path) {
  v1::FleetRolloutState state;
  absl::StatusOr<bool> found = LoadStateJson(path, "a fleet rollout state", state);
  if (!found.ok()) return found.status();
  if (!*found) return std::nullopt;
  return state;
}

absl::StatusOr<std::unique_ptr<canary::Rollout>> RestoreRollout(const v1::FleetRolloutState& state,
                                                                canary::RolloutSpec spec,
                                                                canary::MonotonicTime now,
                                                                canary::SystemTime wall_now,
                                                                canary::RolloutListener* listener) {
  auto parse = [](const std::string& name,
                  const std::string& field) -> absl::StatusOr<canary::RolloutState> {
    std::optional<canary::RolloutState> parsed = canary::parseRolloutState(name);
    if (!parsed.has_value()) {
      return absl::InvalidArgumentError(absl::StrCat(field, ": unknown state \"", name, "\""));
    }
    return *parsed;
  };
  absl::StatusOr<canary::RolloutState> current = parse(state.state(), "state");
  if (!current.ok()) return current.status();
  std::deque<canary::HistoryEntry> history;
  for (int i = 0; i < state.history_size(); ++i) {
    const v1::FleetRolloutTransition& saved = state.history(i);
    const std::string field = absl::StrCat("history[", i, "]");
    absl::StatusOr<canary::RolloutState> from = parse(saved.from_state(), field + ".from_state");
    absl::StatusOr<canary::RolloutState> to = parse(saved.to_state(), field + ".to_state");
    if (!from.ok()) return from.status();
    if (!to.ok()) return to.status();
    canary::HistoryEntry& entry = history.emplace_back();
    entry.time = Monotonic(saved.at_ms(), now, wall_now);
    entry.from_state = *from;
    entry.to_state = *to;
    entry.from_stage = saved.from_stage();
    entry.to_stage = saved.to_stage();
    entry.from_weight = saved.from_weight();
    entry.to_weight = saved.to_weight();
    entry.reason = saved.reason();
  }
  auto rollout = canary::Rollout::restore(std::move(spec), *current, state.stage(),
                                          Monotonic(state.stage_entered_at_ms(), now, wall_now),
                                          std::move(history), listener);
  if (!rollout.ok()) {
    return absl::InvalidArgumentError(absl::StrCat("stage: ", rollout.status().message()));
  }
  return rollout;
}

}  // namespace modgate::control_plane
