#include "source/goproxy/retract.h"

#include "source/goproxy/semver.h"
#include "source/goproxy/string_util.h"

namespace modgate::goproxy {
namespace {

bool isSpace(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

std::string_view trim(std::string_view s) {
  while (!s.empty() && isSpace(s.front())) s.remove_prefix(1);
  while (!s.empty() && isSpace(s.back())) s.remove_suffix(1);
  return s;
}

// go.mod's line syntax: a `//` outside a quoted string starts a comment.
std::string_view stripComment(std::string_view line) {
  bool quoted = false;
  for (size_t i = 0; i < line.size(); ++i) {
    if (line[i] == '"' && (i == 0 || line[i - 1] != '\\')) quoted = !quoted;
    if (!quoted && line[i] == '/' && i + 1 < line.size() && line[i + 1] == '/') {
      return line.substr(0, i);
    }
  }
  return line;
}

// A version token, bare or in double quotes; "" when it is not a valid
// semantic version (modfile requires canonical versions here).
std::string versionToken(std::string_view token) {
  token = trim(token);
  if (token.size() >= 2 && token.front() == '"' && token.back() == '"') {
    token = token.substr(1, token.size() - 2);
  }
  if (!semver::IsValid(token)) return "";
  return std::string(token);
}

// One directive's argument: "v1.2.3" or "[v1.0.0, v1.9.9]".
bool parseSpec(std::string_view spec, VersionInterval& out) {
  spec = trim(spec);
  if (spec.empty()) return false;
  if (spec.front() != '[') {
    out.low = out.high = versionToken(spec);
    return !out.low.empty();
  }
  if (spec.back() != ']') return false;
  std::vector<std::string_view> parts = Split(spec.substr(1, spec.size() - 2), ',');
  if (parts.size() != 2) return false;
  out.low = versionToken(parts[0]);
  out.high = versionToken(parts[1]);
  return !out.low.empty() && !out.high.empty() && semver::Compare(out.low, out.high) <= 0;
}

}  // namespace

std::vector<VersionInterval> ParseRetractions(std::string_view go_mod) {
  std::vector<VersionInterval> out;
  bool in_block = false;
  for (std::string_view raw : Split(go_mod, '\n')) {
    std::string_view line = trim(stripComment(raw));
    if (line.empty()) continue;
    if (in_block) {
      if (line == ")") {
        in_block = false;
        continue;
      }
      VersionInterval interval;
      if (parseSpec(line, interval)) out.push_back(std::move(interval));
      continue;
    }
    if (!ConsumePrefix(&line, "retract")) continue;
    if (line.empty() || !isSpace(line.front())) {
      if (line != "(") continue;  // "retracted ..." is another word
    }
    line = trim(line);
    if (line == "(") {
      in_block = true;
      continue;
    }
    VersionInterval interval;
    if (parseSpec(line, interval)) out.push_back(std::move(interval));
  }
  return out;
}

bool IsRetracted(const std::vector<VersionInterval>& intervals, std::string_view version) {
  for (const auto& interval : intervals) {
    if (semver::Compare(interval.low, version) <= 0 &&
        semver::Compare(version, interval.high) <= 0) {
      return true;
    }
  }
  return false;
}

std::string LatestForRetractions(const std::vector<std::string>& versions) {
  std::string release;
  std::string prerelease;
  for (const auto& v : versions) {
    if (!semver::IsValid(v)) continue;
    std::string& best = semver::Prerelease(v).empty() ? release : prerelease;
    if (best.empty() || semver::Compare(v, best) > 0) best = v;
  }
  return release.empty() ? prerelease : release;
}

}  // namespace modgate::goproxy
