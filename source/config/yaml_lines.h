#pragma once

#include <optional>
#include <string_view>

#include "absl/status/status.h"

namespace modgate::config {

// The 1-based line in `yaml_text` (YAML or JSON) where the value at
// `field_path` starts, e.g. "routes[2].rollout.canary_cluster" or
// runtime["routes.a"]; keys may be written snake_case or lowerCamelCase.
// nullopt when the text does not parse or the path is not there (a field
// filled in by a default).
std::optional<int> LineOfField(std::string_view yaml_text, std::string_view field_path);

// Validation errors ("path: message" per line) with "line N: " put in front
// of each whose path is found in `yaml_text`, so semantic errors point at
// the line like syntax errors do.
absl::Status AnnotateLines(const absl::Status& status, std::string_view yaml_text);

}  // namespace modgate::config
