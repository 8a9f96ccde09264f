#pragma once

#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "source/upstream/origin.h"

namespace modgate::upstream {

// 301, 302, 303, 307, 308.
bool isRedirectStatus(int status);

// Where a redirect points: an origin and an origin-form request target.
struct RedirectTarget {
  Origin origin;
  std::string target;  // "/path?query", never empty
};

// Resolves a Location value (absolute URL, scheme-relative "//host/p",
// absolute path, or relative path) against the request that got it
// (RFC 3986 section 5.2, with dot-segment removal). The fragment is dropped.
absl::StatusOr<RedirectTarget> resolveRedirect(const Origin& origin, std::string_view target,
                                               std::string_view location);

}  // namespace modgate::upstream
