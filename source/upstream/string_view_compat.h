#pragma once

#include <string_view>

#include "absl/strings/string_view.h"

namespace modgate::upstream {

// Debian's abseil is built with its own absl::string_view, distinct from
// std::string_view: convert explicitly at the boundary.
inline absl::string_view toAbsl(std::string_view text) {
  return absl::string_view(text.data(), text.size());
}

}  // namespace modgate::upstream
