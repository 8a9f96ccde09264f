#pragma once

#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

// Module paths and versions as the go command validates and escapes them: a
// port of golang.org/x/mod/module (module.go). The proxy must accept exactly
// what the go command can send and reject everything else before it becomes
// an upstream request or a file name, so these mirror Go rule for rule, and
// their error messages read like Go's (the go command prints them to users).
// Errors are absl::InvalidArgumentError carrying Go's message.
namespace modgate::goproxy {

// Checks that `path` is a valid module path (module.CheckPath): ASCII letters,
// digits and "-._~" in '/'-separated elements; no leading or trailing slash,
// no empty, "." or ".." element, no element beginning or ending with '.'; a
// first element that is lower-case LDH with at least one dot and no leading
// dash; no Windows-reserved element (CON, com1, ...) and no Windows short-name
// look-alike (trailing "~" plus digits); a final "/vN" element only for N >= 2
// without leading zero or dots, and gopkg.in paths ending in ".vN".
// Error: `malformed module path "x": missing dot in first path element`.
absl::Status CheckPath(std::string_view path);

// Checks that `path` is a valid package import path (module.CheckImportPath):
// like CheckPath without the first-element and major-version rules, and
// allowing '+' and leading dots in elements.
absl::Status CheckImportPath(std::string_view path);

// Checks that `path` is a valid module path, `version` a valid semantic
// version, and that the two agree on the major version (module.Check): "/vN"
// paths need vN.x.y, gopkg.in ".vN" paths need vN (or an old v0.0.0-
// pseudo-version for ".v1"), other paths need v0 or v1 or "+incompatible".
// Like Go's Check it does not require the version to be canonical; callers that
// need that compare with CanonicalVersion.
// Error: `github.com/go-yaml/yaml@v2.0.0: invalid version: should be v0 or v1, not v2`.
absl::Status CheckVersion(std::string_view path, std::string_view version);

// The result of SplitPathVersion: prefix + path_major == the input path.
struct PathVersionSplit {
  std::string_view prefix;
  std::string_view path_major;  // "", "/vN" (N >= 2), or for gopkg.in ".vN"[-unstable]
  bool ok = false;              // false if the last element is a malformed major suffix
};

// Splits off the major version suffix of a module path (module.SplitPathVersion):
// "x.y/z/v2" -> {"x.y/z", "/v2", true}; "gopkg.in/yaml.v2" -> {"gopkg.in/yaml",
// ".v2", true}; "x.y/z/v1" -> {"x.y/z/v1", "", false}.
PathVersionSplit SplitPathVersion(std::string_view path);

// Checks that semantic version `v` matches the path major version suffix
// `path_major` as returned by SplitPathVersion (module.CheckPathMajor).
// Error: `version "v2.0.0" invalid: should be v0 or v1, not v2`.
absl::Status CheckPathMajor(std::string_view v, std::string_view path_major);

// CheckPathMajor(v, path_major).ok() (module.MatchPathMajor).
bool MatchPathMajor(std::string_view v, std::string_view path_major);

// semver::Canonical, except that the build suffix "+incompatible" is kept
// (module.CanonicalVersion): the form in which .mod and .zip are served.
// Returns "" if `v` is not a valid semantic version.
std::string CanonicalVersion(std::string_view v);

// Returns the case-escaped form of a module path, every upper-case letter
// replaced by '!' and its lower-case form (module.EscapePath), so that proxies
// and caches on case-insensitive file systems never need two casings of one
// path: "github.com/BurntSushi/toml" -> "github.com/!burnt!sushi/toml".
// Fails (with CheckPath's error) if the path is invalid.
absl::StatusOr<std::string> EscapePath(std::string_view path);

// Decodes an escaped module path (module.UnescapePath). Fails if it holds an
// upper-case letter, a '!' not followed by a lower-case letter, a non-ASCII
// byte, or decodes to an invalid module path.
// Error: `invalid escaped module path "x": malformed module path ...`.
absl::StatusOr<std::string> UnescapePath(std::string_view escaped);

// Returns the case-escaped form of a version (module.EscapeVersion). Versions
// need not be semantic (a .info query may name a branch) but must be a valid
// file name element and hold no '!'.
// Error: `version "x" invalid: disallowed version string`.
absl::StatusOr<std::string> EscapeVersion(std::string_view version);

// Decodes an escaped version (module.UnescapeVersion); the result must be a
// valid file name element.
// Error: `invalid escaped version "x"` or `invalid escaped version "x": <why>`.
absl::StatusOr<std::string> UnescapeVersion(std::string_view escaped);

}  // namespace modgate::goproxy
