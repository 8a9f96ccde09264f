#pragma once

#include <string>
#include <string_view>

// Semantic versions as the go command understands them: a port of
// golang.org/x/mod/semver. Versions carry a leading "v"; "vMAJOR" and
// "vMAJOR.MINOR" (with no prerelease or build suffix) are shorthands for
// "vMAJOR.0.0" and "vMAJOR.MINOR.0". Every function mirrors its Go namesake
// exactly, including the answers for invalid input, because the proxy must
// agree with the go command about which versions exist and how they sort.
namespace modgate::goproxy::semver {

// Reports whether `v` is a valid semantic version string.
bool IsValid(std::string_view v);

// Returns the canonical formatting of `v`: missing .MINOR/.PATCH filled in,
// build metadata (including "+incompatible") discarded. Returns "" if `v` is
// invalid. Two versions compare equal iff their canonical forms are equal.
std::string Canonical(std::string_view v);

// Returns the major version prefix: Major("v2.1.0") == "v2"; "" if invalid.
std::string Major(std::string_view v);

// Returns the major.minor prefix: MajorMinor("v2.1.0") == "v2.1",
// MajorMinor("v2") == "v2.0"; "" if invalid.
std::string MajorMinor(std::string_view v);

// Returns the prerelease suffix: Prerelease("v2.1.0-pre+meta") == "-pre";
// "" if none or invalid. The view points into `v`.
std::string_view Prerelease(std::string_view v);

// Returns the build suffix: Build("v2.1.0+meta") == "+meta"; "" if none or
// invalid. The view points into `v`.
std::string_view Build(std::string_view v);

// Compares by semantic version precedence: -1, 0 or +1. An invalid version is
// less than any valid one; all invalid versions compare equal.
int Compare(std::string_view a, std::string_view b);

}  // namespace modgate::goproxy::semver

namespace modgate::goproxy {

// The same functions directly in modgate::goproxy, the names the rest of
// modgate calls (goproxy::Compare(a, b)); semver:: spells out the origin.
using semver::Build;
using semver::Canonical;
using semver::Compare;
using semver::IsValid;
using semver::Major;
using semver::MajorMinor;
using semver::Prerelease;

}  // namespace modgate::goproxy
