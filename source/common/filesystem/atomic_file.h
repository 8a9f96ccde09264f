#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace modgate::filesystem {

// Writes `bytes` to `path` so that a crash leaves either the old file or the
// new one, never a torn one: a temp file beside it, fsync, rename over the
// old one, fsync of the directory (created with its parents if missing).
// Blocking: for small files written from a main thread (a sidecar's last
// ACKed config, the control plane's rollout state).
absl::Status WriteFileAtomically(const std::string& path, std::string_view bytes);

// The whole content of `path`; nullopt when it does not exist.
absl::StatusOr<std::optional<std::string>> ReadSmallFile(const std::string& path);

// mkdir -p.
absl::Status MakeDirectories(const std::string& dir);

}  // namespace modgate::filesystem
