#pragma once

#include <string>
#include <string_view>
#include <vector>

// Retracted versions, as the go command finds them: the `retract`
// directives of the go.mod of a module's latest version (cmd/go's
// modload.queryLatestVersionIgnoringRetractions, then modfile's Retract).
// Pure functions over strings, no I/O.
namespace modgate::goproxy {

// One retract directive: a single version has low == high.
struct VersionInterval {
  std::string low;
  std::string high;
};

// The retract directives of a go.mod: `retract v1.0.0`, `retract [v1.0.0,
// v1.9.9]` and the block form `retract ( ... )`, versions bare or quoted,
// `//` comments ignored. A directive that does not parse (an invalid
// version, a reversed interval) is skipped, as the go command rejects the
// whole go.mod only for its own main module.
std::vector<VersionInterval> ParseRetractions(std::string_view go_mod);

// Whether `version` lies in one of `intervals` (semver order, inclusive).
bool IsRetracted(const std::vector<VersionInterval>& intervals, std::string_view version);

// The version whose go.mod holds a module's retractions: the highest
// release of `versions` (an @v/list), else its highest prerelease; ""
// when the list has no valid version (then the go command asks @latest).
std::string LatestForRetractions(const std::vector<std::string>& versions);

}  // namespace modgate::goproxy
