#pragma once

#include <string>
#include <string_view>

#include "absl/status/statusor.h"

// Percent-encoding of URL paths, the way the proxy needs it: decode what the
// go command sent exactly once, and encode re-built paths so that each one has
// a single spelling.
namespace modgate::goproxy {

// Decodes every %XX escape in a URL path once. '+' stays '+' (it is not a
// space in a path, and "+incompatible" depends on it). Fails on a malformed
// escape (`invalid URL escape "%zz"`) and on an escaped '/' (%2F), which would
// let one path element pose as several.
absl::StatusOr<std::string> DecodeUrlPath(std::string_view path);

// Percent-encodes a decoded URL path: ASCII letters, digits, '/' and
// "-._~!$&+,;=@" stay as they are, every other byte becomes %XX (upper-case
// hex). Module paths and canonical versions therefore come out unchanged
// (including the '!' of case-escaping); odd .info queries such as "a b" come
// out as "a%20b". Encoding is injective ('%' itself is escaped) and yields only
// printable ASCII, so the result also serves as a relative file name.
std::string EncodeUrlPath(std::string_view path);

}  // namespace modgate::goproxy
