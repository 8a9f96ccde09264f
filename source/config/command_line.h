#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "api/modgate/config/v1/bootstrap.pb.h"
#include "api/modgate/config/v1/dynamic.pb.h"

namespace modgate::config {

// The parsed command line. Flag values are checked for syntax while
// parsing, so that a typo is blamed on the flag rather than on the config
// field it overrides.
struct CommandLine {
  enum class Mode {
    kRun,       // modgate [flags]
    kValidate,  // modgate validate -c FILE [flags]: check, print, exit
    // modgate verify-cache [-c FILE] [--admin ADDR]: ask the running
    // modgate at the config's admin address to recheck its cache, print
    // the report.
    kVerifyCache,
    kControlPlane,  // modgate control-plane -c FILE: serve a fleet over xDS
    // modgate prefill [-c FILE] (--go-sum F | --go-mod F | --list F)
    // [--parallel N]: fill the config's cache with those module versions.
    kPrefill,
    // modgate export DIR [-c FILE] [--module PATTERNS]: the config's cache
    // as a GOPROXY file tree.
    kExport,
    kVersion,  // --version
    kHelp,     // --help / -h
  };
  Mode mode = Mode::kRun;
  // -c / --config; "" = the embedded default config.
  std::string config_path;
  // Overrides, applied on top of the config in BuildBootstrap().
  std::optional<std::string> listen;    // --listen: the only listener
  std::optional<std::string> admin;     // --admin: admin.address
  std::optional<std::string> upstream;  // --upstream: GOPROXY list syntax
  std::optional<std::string> cache_dir;
  std::optional<uint64_t> cache_max_bytes;
  std::optional<uint32_t> concurrency;
  std::optional<std::string> log_level;
  // --no-watch: do not reload when the config file changes (SIGHUP and
  // POST /reload still do).
  bool watch_config = true;
  // prefill: the input file and its format ("go-sum", "go-mod" or "list"),
  // and how many module versions are fetched at once.
  std::string prefill_input;
  std::string prefill_format;
  uint32_t prefill_parallel = 4;
  // The checksum database whose data prefill fetches too ("off": none;
  // unset: from $GOSUMDB).
  std::optional<std::string> prefill_sumdb;
  // export: the directory to write, and GOPRIVATE-style module globs.
  std::string export_dir;
  std::string export_modules;
};

// The --help text.
absl::string_view UsageText();

// Parses argv (argv[0] is the program name). Flags take "--flag=value" or
// "--flag value"; the last occurrence of a flag wins. --help and --version
// win over everything else. Errors are InvalidArgument whose message is the
// problem, a blank line, and UsageText().
absl::StatusOr<CommandLine> ParseCommandLine(int argc, const char* const argv[]);
absl::StatusOr<CommandLine> ParseCommandLine(const std::vector<std::string>& args);

// The effective config: the file (or DefaultConfigYaml()), then the
// command-line overrides, then ApplyDefaults(), then Validate(). Error lines
// are prefixed with the config file's path.
//
// A config reload calls it again, so the command-line overrides keep
// winning over the file. With `source_text`, the bytes parsed (the file's,
// or the built-in config's) are stored there. With `dynamic` (a file with a
// control_plane only), the control plane's resources are merged in
// (MergeDynamicConfig) before the defaults and the validation, so a pushed
// config is checked exactly as a file is.
absl::StatusOr<v1::Bootstrap> BuildBootstrap(const CommandLine& command_line,
                                             std::string* source_text = nullptr,
                                             const v1::DynamicConfig* dynamic = nullptr);

}  // namespace modgate::config
