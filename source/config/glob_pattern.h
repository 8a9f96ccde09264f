#pragma once

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace modgate::config {

// Checks that `pattern` is well-formed in Go's path.Match syntax ('*', '?',
// '[...]' classes with ranges and '^' negation, '\\' escapes). Go reports a
// bad pattern only when matching reaches it; checking up front turns a
// silently never-matching route into a config error.
absl::Status ValidateGlob(absl::string_view pattern);

// Checks a GOPRIVATE-style comma-separated list of globs. Empty entries are
// skipped, as the go command does.
absl::Status ValidateGlobList(absl::string_view list);

}  // namespace modgate::config
