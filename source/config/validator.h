#pragma once

#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "api/modgate/config/v1/bootstrap.pb.h"
#include "source/config/error_list.h"

namespace modgate::config {

// Checks the rules the proto types cannot express (ranges, references,
// address and URL syntax, ...; each field's rule is documented in the
// proto). Meant for a config that went through ApplyDefaults(): fields
// whose defaults ApplyDefaults fills (listeners, admin address, cache dir,
// log level, timeouts) are required here, while unset wrapper fields are
// accepted as "default".
//
// Returns OK or InvalidArgument listing the first ErrorList::kMaxReported
// problems, one per line, as "field.path: message".
absl::Status Validate(const v1::Bootstrap& bootstrap);

// A DownstreamTls (a listener's, or the control plane's) at `path`, as
// far as it can be checked without reading its files (they are read when
// the TLS context is built, and a bad one names its field there).
void ValidateDownstreamTls(const std::string& path, const v1::DownstreamTls& tls,
                           ErrorList& errors);

// True for trace, debug, info, warn, error and off.
bool IsValidLogLevel(absl::string_view level);

// True for names matching [a-z0-9_.-]+ (listeners and clusters): safe in
// stat names, log lines and URLs without escaping.
bool IsValidResourceName(absl::string_view name);

// A runtime key: dot-separated segments of [a-z0-9_-], e.g.
// "routes.public.canary".
bool IsRuntimeKey(absl::string_view key);

}  // namespace modgate::config
