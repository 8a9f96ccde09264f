#pragma once

#include <string>

#include "absl/strings/string_view.h"
#include "api/modgate/config/v1/bootstrap.pb.h"
#include "google/protobuf/message.h"

namespace modgate::config {

// What a redacted string field reads as.
inline constexpr absl::string_view kRedacted = "[redacted]";

// Replaces, recursively, the value of every set field annotated
// [(modgate.config.v1.sensitive) = true]: strings and bytes become
// kRedacted, anything else is cleared. Generic over message types so that
// future secret-bearing fields only need the annotation.
void RedactSensitiveFields(google::protobuf::Message& message);

// Pretty-printed JSON (proto field names, as in config files) of
// `bootstrap` with sensitive fields redacted; for /config_dump and
// `modgate validate`. Unset fields are omitted, so dump after ApplyDefaults
// to show the effective config.
std::string DumpJson(const v1::Bootstrap& bootstrap);

}  // namespace modgate::config
