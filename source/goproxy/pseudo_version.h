#pragma once

#include <string>
#include <string_view>

#include "absl/status/statusor.h"

// Pseudo-versions: the versions the go command makes up for untagged commits
// (a port of the parsing half of golang.org/x/mod/module/pseudo.go). They take
// one of the forms
//   vX.0.0-yyyymmddhhmmss-abcdef123456
//   vX.Y.(Z+1)-0.yyyymmddhhmmss-abcdef123456[+incompatible]
//   vX.Y.Z-pre.0.yyyymmddhhmmss-abcdef123456[+incompatible]
// A proxy needs to recognise them because they are never listed by @v/list.
namespace modgate::goproxy {

// Reports whether `v` is a pseudo-version (module.IsPseudoVersion).
bool IsPseudoVersion(std::string_view v);

// Returns the revision identifier of pseudo-version `v`, e.g. "abcdef123456"
// (module.PseudoVersionRev). Error: `pseudo-version "v" invalid: syntax error`.
absl::StatusOr<std::string> PseudoVersionRev(std::string_view v);

// Returns the 14-digit yyyymmddhhmmss timestamp of pseudo-version `v`, checked
// to be a valid UTC date and time (module.PseudoVersionTime, as text).
// Error: `pseudo-version "v" invalid: malformed time "20061302150405"`.
absl::StatusOr<std::string> PseudoVersionTimestamp(std::string_view v);

// Returns the canonical tagged version `v` is based on, or "" for form (1)
// (module.PseudoVersionBase): "v1.2.4-0.2006...-hash" -> "v1.2.3".
absl::StatusOr<std::string> PseudoVersionBase(std::string_view v);

}  // namespace modgate::goproxy
