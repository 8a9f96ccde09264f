#pragma once

#include <optional>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "api/modgate/config/v1/bootstrap.pb.h"
#include "api/modgate/config/v1/dynamic.pb.h"

namespace modgate::config {

// A sidecar's config is the local file (what only a restart changes, plus
// optional static listeners, clusters, routes and sumdbs) with the control
// plane's resources layered on top. Merging is the only difference from a
// file: the result goes through ApplyDefaults() and Validate() and the
// server's reload path exactly like a file's config.

// `local` with `dynamic` added: static listeners, clusters and sumdbs first,
// then the dynamic ones; static routes first (they win: first match), then
// the dynamic route table; the dynamic runtime values over the file's. A
// listener, cluster or sumdb name defined in both is an InvalidArgument
// naming the dynamic resource's field in the merged config, e.g.
//   clusters[2].name: "public" is defined both in the local file and by the
//   control plane
absl::StatusOr<v1::Bootstrap> MergeDynamicConfig(const v1::Bootstrap& local,
                                                 const v1::DynamicConfig& dynamic);

// `dynamic` serialized deterministically (map entries sorted), so equal
// configs give equal bytes: what versions and "did anything change" use.
std::string DeterministicBytes(const v1::DynamicConfig& dynamic);

// Where the last ACKed dynamic config is kept: <cache_dir>/control_plane/
// last_acked.pb.
std::string DynamicConfigPath(const std::string& cache_dir);

// Writes `dynamic` to `path` atomically: a temp file beside it, fsync,
// rename over the old one, fsync of the directory (created if missing), so
// a crash leaves either the old or the new file, never a torn one.
// Blocking (main thread; small files).
absl::Status SaveDynamicConfig(const std::string& path, const v1::DynamicConfig& dynamic);

// The config SaveDynamicConfig() wrote, nullopt when there is none, an
// error when the file cannot be read or parsed.
absl::StatusOr<std::optional<v1::DynamicConfig>> LoadDynamicConfig(const std::string& path);

}  // namespace modgate::config
