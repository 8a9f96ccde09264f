#pragma once

#include <string_view>

#include "absl/status/status.h"

namespace modgate::cache {

// Cache keys are relative paths that become file paths under the cache
// directory ("github.com/!burnt!sushi/toml/@v/v1.2.0.zip"). The protocol
// layer validates them first; this check is the cache's own defence against
// a key escaping the directory or colliding with the file system's rules:
// no leading '/', no empty, "." or ".." segments, no NUL or other control
// bytes, no backslash, segments of at most 255 bytes, at most 4000 bytes in
// all.
absl::Status ValidateCacheKey(std::string_view key);

}  // namespace modgate::cache
