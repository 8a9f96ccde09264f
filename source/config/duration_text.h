#pragma once

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace modgate::config {

// Converts a duration written the way users write them in config files to
// the protobuf JSON form of google.protobuf.Duration ("90s", "0.250s").
// Accepts the JSON form itself ("5s", "1.5s") and Go's time.ParseDuration
// syntax ("1m30s", "250ms", "1h", "-2s"), since modgate's users are Go
// developers. A bare number other than "0" is an error: "5" might mean
// seconds or milliseconds.
absl::StatusOr<std::string> DurationToProtoJson(absl::string_view text);

}  // namespace modgate::config
