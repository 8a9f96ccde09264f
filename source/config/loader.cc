#include "source/config/loader.h"

#include <fstream>
#include <sstream>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "google/protobuf/struct.pb.h"
#include "google/protobuf/util/json_util.h"
#include "source/config/error_list.h"
#include "source/config/yaml_to_json.h"
#include "yaml-cpp/yaml.h"

namespace modgate::config {
namespace {

absl::Status FromJson(std::string_view json, google::protobuf::Message& message) {
  google::protobuf::util::JsonParseOptions options;
  options.ignore_unknown_fields = false;
  auto status = google::protobuf::util::JsonStringToMessage(
      google::protobuf::StringPiece(json.data(), json.size()), &message, options);
  if (!status.ok()) {
    return absl::InvalidArgumentError(std::string(status.message()));
  }
  return absl::OkStatus();
}

absl::StatusOr<v1::Bootstrap> FromJson(std::string_view json) {
  v1::Bootstrap bootstrap;
  absl::Status status = FromJson(json, bootstrap);
  if (!status.ok()) return status;
  return bootstrap;
}

absl::StatusOr<YAML::Node> ParseYaml(std::string_view text) {
  try {
    return YAML::Load(std::string(text));
  } catch (const YAML::Exception& e) {
    // e.what() repeats the position in yaml-cpp's own words; build ours.
    if (e.mark.is_null()) return absl::InvalidArgumentError(e.msg);
    return absl::InvalidArgumentError(
        absl::StrCat("line ", e.mark.line + 1, ", column ", e.mark.column + 1, ": ", e.msg));
  }
}

absl::Status FromTree(const YAML::Node& root, google::protobuf::Message& message) {
  ErrorList errors;
  std::string json;
  try {
    json = YamlToProtoJson(root, *message.GetDescriptor(), errors);
  } catch (const YAML::Exception& e) {
    // Not expected once parsing succeeded, but yaml-cpp throws from
    // accessors; never let that escape the Status API.
    return absl::InvalidArgumentError(e.what());
  }
  if (!errors.empty()) return errors.ToStatus();
  // The walk above has checked everything JsonStringToMessage checks, so a
  // failure here is a converter bug; report it anyway rather than crash.
  return FromJson(json, message);
}

absl::StatusOr<v1::Bootstrap> FromTree(const YAML::Node& root) {
  v1::Bootstrap bootstrap;
  absl::Status status = FromTree(root, bootstrap);
  if (!status.ok()) return status;
  return bootstrap;
}

bool StartsLikeJson(absl::string_view text) {
  text = absl::StripLeadingAsciiWhitespace(text);
  return !text.empty() && text.front() == '{';
}

}  // namespace

absl::StatusOr<v1::Bootstrap> LoadYaml(std::string_view text) {
  absl::StatusOr<YAML::Node> root = ParseYaml(text);
  if (!root.ok()) return root.status();
  return FromTree(*root);
}

absl::StatusOr<v1::Bootstrap> LoadJson(std::string_view text) {
  // yaml-cpp parses JSON too and gives the schema walk its line numbers, but
  // it would also accept YAML; a strict JSON parse first keeps .json files
  // JSON.
  google::protobuf::Value syntax_check;
  auto syntax = google::protobuf::util::JsonStringToMessage(
      google::protobuf::StringPiece(text.data(), text.size()), &syntax_check);
  if (!syntax.ok()) {
    return absl::InvalidArgumentError(absl::StrCat("invalid JSON: ", syntax.message().as_string()));
  }
  absl::StatusOr<YAML::Node> root = ParseYaml(text);
  if (!root.ok()) {
    // Valid JSON that yaml-cpp cannot read (rare corner cases): parse it
    // directly, with protobuf's less precise errors.
    return FromJson(text);
  }
  return FromTree(*root);
}

absl::StatusOr<std::string> ReadConfigFile(const std::string& path) {
  std::ifstream file(path, std::ios::binary);
  if (!file) return absl::NotFoundError(absl::StrCat(path, ": cannot open file"));
  std::stringstream buffer;
  buffer << file.rdbuf();
  if (file.bad()) return absl::NotFoundError(absl::StrCat(path, ": cannot read file"));
  return buffer.str();
}

absl::StatusOr<v1::Bootstrap> LoadText(const std::string& path, std::string_view text) {
  std::string lower = absl::AsciiStrToLower(path);
  bool json = absl::EndsWith(lower, ".json") ||
              (!absl::EndsWith(lower, ".yaml") && !absl::EndsWith(lower, ".yml") &&
               StartsLikeJson(absl::string_view(text.data(), text.size())));
  absl::StatusOr<v1::Bootstrap> bootstrap = json ? LoadJson(text) : LoadYaml(text);
  if (!bootstrap.ok()) return PrefixLines(bootstrap.status(), path);
  // Only a control plane running the rollout for the whole fleet sets it
  // (and a sidecar then refuses local /rollout commands): from a file it
  // would freeze the rollout with nothing to move it.
  for (int i = 0; i < bootstrap->routes_size(); ++i) {
    if (bootstrap->routes(i).rollout().has_fleet()) {
      return absl::InvalidArgumentError(
          absl::StrCat(path, ": routes[", i,
                       "].rollout.fleet: set by the control plane that runs a fleet-wide "
                       "rollout; not allowed in a config file"));
    }
  }
  return bootstrap;
}

absl::Status LoadMessageFile(const std::string& path, google::protobuf::Message& message) {
  absl::StatusOr<std::string> text = ReadConfigFile(path);
  if (!text.ok()) return text.status();
  absl::StatusOr<YAML::Node> root = ParseYaml(*text);  // YAML is a superset of JSON
  absl::Status status = root.ok() ? FromTree(*root, message) : root.status();
  if (!status.ok()) return PrefixLines(status, path);
  return absl::OkStatus();
}

absl::StatusOr<v1::Bootstrap> LoadFile(const std::string& path) {
  absl::StatusOr<std::string> text = ReadConfigFile(path);
  if (!text.ok()) return text.status();
  return LoadText(path, *text);
}

}  // namespace modgate::config
