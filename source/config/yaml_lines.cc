#include "source/config/yaml_lines.h"

#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "yaml-cpp/yaml.h"

namespace modgate::config {
namespace {

struct Step {
  std::string key;  // a map key, or empty for an index
  size_t index = 0;
};

// "a.b[2].c" and runtime["x.y"] into steps; nullopt on anything else.
std::optional<std::vector<Step>> ParsePath(std::string_view path) {
  std::vector<Step> steps;
  size_t i = 0;
  while (i < path.size()) {
    if (path[i] == '.') {
      ++i;
      continue;
    }
    if (path[i] == '[') {
      size_t close = path.find(']', i);
      if (close == std::string_view::npos) return std::nullopt;
      std::string_view inside = path.substr(i + 1, close - i - 1);
      Step step;
      if (!inside.empty() && inside.front() == '"' && inside.back() == '"' && inside.size() >= 2) {
        step.key = std::string(inside.substr(1, inside.size() - 2));
      } else {
        if (inside.empty()) return std::nullopt;
        for (char c : inside) {
          if (c < '0' || c > '9') return std::nullopt;
          step.index = step.index * 10 + static_cast<size_t>(c - '0');
        }
      }
      steps.push_back(std::move(step));
      i = close + 1;
      continue;
    }
    size_t end = path.find_first_of(".[", i);
    if (end == std::string_view::npos) end = path.size();
    steps.push_back(Step{std::string(path.substr(i, end - i)), 0});
    i = end;
  }
  return steps;
}

std::string LowerCamel(const std::string& snake) {
  std::string out;
  bool upper = false;
  for (char c : snake) {
    if (c == '_') {
      upper = true;
    } else {
      out.push_back(upper && c >= 'a' && c <= 'z' ? static_cast<char>(c - 'a' + 'A') : c);
      upper = false;
    }
  }
  return out;
}

}  // namespace

std::optional<int> LineOfField(std::string_view yaml_text, std::string_view field_path) {
  auto steps = ParsePath(field_path);
  if (!steps.has_value() || steps->empty()) return std::nullopt;
  try {
    YAML::Node node = YAML::Load(std::string(yaml_text));
    for (const Step& step : *steps) {
      if (step.key.empty()) {
        if (!node.IsSequence() || step.index >= node.size()) return std::nullopt;
        // reset() rebinds; operator= would overwrite the node's value.
        node.reset(node[step.index]);
        continue;
      }
      if (!node.IsMap()) return std::nullopt;
      YAML::Node next;
      bool found = false;
      for (const std::string& key : {step.key, LowerCamel(step.key)}) {
        for (auto it = node.begin(); it != node.end() && !found; ++it) {
          if (it->first.IsScalar() && it->first.Scalar() == key) {
            next.reset(it->second);
            found = true;
          }
        }
        if (found) break;
      }
      if (!found) return std::nullopt;
      node.reset(next);
    }
    if (node.Mark().is_null()) return std::nullopt;
    return node.Mark().line + 1;
  } catch (const YAML::Exception&) {
    return std::nullopt;
  }
}

absl::Status AnnotateLines(const absl::Status& status, std::string_view yaml_text) {
  if (status.ok()) return status;
  std::vector<std::string> lines = absl::StrSplit(status.message(), '\n');
  for (std::string& line : lines) {
    size_t colon = line.find(": ");
    if (colon == std::string::npos || line.rfind("line ", 0) == 0) continue;
    std::optional<int> at = LineOfField(yaml_text, std::string_view(line).substr(0, colon));
    if (at.has_value()) line = absl::StrCat("line ", *at, ": ", line);
  }
  return absl::Status(status.code(), absl::StrJoin(lines, "\n"));
}

}  // namespace modgate::config
