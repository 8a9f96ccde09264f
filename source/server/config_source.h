#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "api/modgate/config/v1/bootstrap.pb.h"
#include "api/modgate/config/v1/dynamic.pb.h"
#include "source/config/command_line.h"

namespace modgate::server {

// A config as loaded: the effective bootstrap (overrides and defaults
// applied, validated) and the SHA-256 of the bytes it came from.
struct LoadedConfig {
  config::v1::Bootstrap bootstrap;
  std::string sha256_hex;
};

// Where the server's config comes from, at startup and at every reload.
class ConfigSource {
 public:
  virtual ~ConfigSource() = default;
  // The config file; "" for the built-in config, which cannot be reloaded.
  virtual const std::string& path() const = 0;
  // Reads the file, applies the command-line overrides, merges `dynamic`
  // (a control plane's resources; may be null) and applies the defaults
  // and validates: the same steps as startup. `sha256_hex` is the file's.
  // Blocking file I/O (main thread).
  virtual absl::StatusOr<LoadedConfig> load(const config::v1::DynamicConfig* dynamic) = 0;
};

// The config named by the command line (-c FILE, or the built-in one),
// with its overrides re-applied at every load so they keep winning.
std::unique_ptr<ConfigSource> commandLineConfigSource(config::CommandLine command_line);

// Lower-case hex SHA-256 of `bytes`.
std::string sha256Hex(std::string_view bytes);

}  // namespace modgate::server
