#include "source/config/command_line.h"

#include <fstream>
#include <sstream>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "source/config/default_config.h"
#include "source/config/defaults.h"
#include "source/config/dynamic_config.h"
#include "source/config/error_list.h"
#include "source/config/host_port.h"
#include "source/config/loader.h"
#include "source/config/proxy_list.h"
#include "source/config/validator.h"
#include "source/config/yaml_lines.h"

namespace modgate::config {
namespace {

constexpr absl::string_view kUsage =
    R"(Usage:
  modgate [-c FILE] [flags]      run the proxy
  modgate validate -c FILE       check a config file and print the effective config
  modgate verify-cache [-c FILE] [--admin ADDR]
                                 have the running modgate recheck every cached .mod/.zip
                                 against the checksum database; prints what it removed
  modgate control-plane -c FILE  serve the configs of a fleet of sidecars over xDS
                                 (-c: a modgate.controlplane.v1.ControlPlane file;
                                 only --log-level applies)
  modgate prefill [-c FILE] (--go-sum FILE | --go-mod FILE | --list FILE) [--parallel N]
                  [--sumdb NAME|off]
                                 fetch every listed module version (.info, .mod, .zip)
                                 into the cache through the configured upstreams, checked
                                 against the go.sum; through the running modgate if one
                                 serves the cache, else through one started for it; and
                                 the checksum database's lookup and tiles for each, so
                                 that an export verifies offline (--sumdb: the database,
                                 default the name in $GOSUMDB, else sum.golang.org; modules
                                 matching $GONOSUMDB or $GOPRIVATE are skipped)
  modgate export DIR [-c FILE] [--module PATTERNS]
                                 write the cache as a GOPROXY file tree (GOPROXY=file://DIR),
                                 with the checksum database data to verify offline;
                                 --module: GOPRIVATE-style globs of the modules to export

Flags:
  -c, --config FILE        YAML (.yaml/.yml) or JSON (.json) config file;
                           default: built-in config proxying https://proxy.golang.org
  --listen ADDR            serve on ADDR (host:port) instead of the configured listeners
  --admin ADDR             admin endpoint address (default 127.0.0.1:9901)
  --upstream LIST          upstream proxies in GOPROXY syntax, replacing the configured
                           clusters and routes: "URL1,URL2|URL3" (',' falls through on
                           404/410 only, '|' on any error); a URL may be file:///DIR,
                           a GOPROXY file tree such as `modgate export` writes
  --cache-dir DIR          cache directory (default $XDG_CACHE_HOME/modgate or ~/.cache/modgate)
  --cache-max-bytes N      disk cache size limit in bytes (0 = unlimited; default 10 GiB)
  --concurrency N          worker threads (0 = one per core)
  --log-level LEVEL        trace, debug, info, warn, error or off (default info)
  --no-watch               do not reload the config when its file changes
                           (SIGHUP and admin POST /reload still reload it)
  --version                print the version and exit
  -h, --help               print this help and exit

Flags accept both "--flag value" and "--flag=value".
)";

absl::Status UsageError(absl::string_view message) {
  return absl::InvalidArgumentError(absl::StrCat(message, "\n\n", kUsage));
}

// Checks and stores the value of a flag that takes one.
absl::Status SetFlag(absl::string_view name, const std::string& value, CommandLine& cl) {
  auto bad = [name](absl::string_view why) { return UsageError(absl::StrCat(name, ": ", why)); };
  if (name == "-c" || name == "--config") {
    if (value.empty()) return bad("empty file name");
    cl.config_path = value;
  } else if (name == "--listen" || name == "--admin") {
    absl::StatusOr<HostPort> address = ParseHostPort(value);
    if (!address.ok()) return bad(address.status().message());
    (name == "--listen" ? cl.listen : cl.admin) = value;
  } else if (name == "--upstream") {
    absl::StatusOr<std::vector<ProxyListEntry>> entries = ParseProxyList(value);
    if (!entries.ok()) return bad(entries.status().message());
    cl.upstream = value;
  } else if (name == "--cache-dir") {
    if (value.empty()) return bad("empty directory name");
    cl.cache_dir = value;
  } else if (name == "--cache-max-bytes") {
    uint64_t bytes = 0;
    if (absl::StartsWith(value, "-") || !absl::SimpleAtoi(value, &bytes)) {
      return bad(absl::StrCat("expected a number of bytes, got \"", value, "\""));
    }
    cl.cache_max_bytes = bytes;
  } else if (name == "--concurrency") {
    uint32_t threads = 0;
    if (absl::StartsWith(value, "-") || !absl::SimpleAtoi(value, &threads)) {
      return bad(absl::StrCat("expected a non-negative integer, got \"", value, "\""));
    }
    cl.concurrency = threads;
  } else if (name == "--go-sum" || name == "--go-mod" || name == "--list") {
    if (cl.mode != CommandLine::Mode::kPrefill) return bad("only for modgate prefill");
    if (!cl.prefill_input.empty()) return bad("give one of --go-sum, --go-mod and --list");
    if (value.empty()) return bad("empty file name");
    cl.prefill_input = value;
    cl.prefill_format = std::string(name.substr(2));
  } else if (name == "--parallel") {
    if (cl.mode != CommandLine::Mode::kPrefill) return bad("only for modgate prefill");
    if (!absl::SimpleAtoi(value, &cl.prefill_parallel) || cl.prefill_parallel < 1 ||
        cl.prefill_parallel > 64) {
      return bad(absl::StrCat("expected 1..64, got \"", value, "\""));
    }
  } else if (name == "--sumdb") {
    if (cl.mode != CommandLine::Mode::kPrefill) return bad("only for modgate prefill");
    if (value.empty()) return bad("empty name (\"off\" skips the checksum database)");
    cl.prefill_sumdb = value;
  } else if (name == "--module") {
    if (cl.mode != CommandLine::Mode::kExport) return bad("only for modgate export");
    cl.export_modules = value;
  } else if (name == "--log-level") {
    if (!IsValidLogLevel(value)) {
      return bad(absl::StrCat("invalid level \"", value,
                              "\" (expected trace, debug, info, warn, error or off)"));
    }
    cl.log_level = value;
  }
  return absl::OkStatus();
}

bool TakesValue(absl::string_view name) {
  return name == "-c" || name == "--config" || name == "--listen" || name == "--admin" ||
         name == "--upstream" || name == "--cache-dir" || name == "--cache-max-bytes" ||
         name == "--concurrency" || name == "--log-level" || name == "--go-sum" ||
         name == "--go-mod" || name == "--list" || name == "--parallel" || name == "--module" ||
         name == "--sumdb";
}

bool IsSwitch(absl::string_view name) {
  return name == "-h" || name == "--help" || name == "--version";
}

}  // namespace

absl::string_view UsageText() { return kUsage; }

absl::StatusOr<CommandLine> ParseCommandLine(int argc, const char* const argv[]) {
  return ParseCommandLine(std::vector<std::string>(argv, argv + argc));
}

absl::StatusOr<CommandLine> ParseCommandLine(const std::vector<std::string>& args) {
  CommandLine cl;
  // Scan for --help/--version first: "modgate --bogus --help" should help,
  // not complain.
  bool help = false;
  bool version = false;
  for (size_t i = 1; i < args.size(); ++i) {
    help = help || args[i] == "-h" || args[i] == "--help";
    version = version || args[i] == "--version";
  }
  if (help) {
    cl.mode = CommandLine::Mode::kHelp;
    return cl;
  }
  if (version) {
    cl.mode = CommandLine::Mode::kVersion;
    return cl;
  }

  size_t i = 1;
  if (i < args.size() && args[i] == "validate") {
    cl.mode = CommandLine::Mode::kValidate;
    ++i;
  } else if (i < args.size() && args[i] == "verify-cache") {
    cl.mode = CommandLine::Mode::kVerifyCache;
    ++i;
  } else if (i < args.size() && args[i] == "control-plane") {
    cl.mode = CommandLine::Mode::kControlPlane;
    ++i;
  } else if (i < args.size() && args[i] == "prefill") {
    cl.mode = CommandLine::Mode::kPrefill;
    ++i;
  } else if (i < args.size() && args[i] == "export") {
    cl.mode = CommandLine::Mode::kExport;
    ++i;
    if (i >= args.size() || absl::StartsWith(args[i], "-")) {
      return UsageError("export requires the directory to write: modgate export DIR");
    }
    cl.export_dir = args[i++];
  }
  for (; i < args.size(); ++i) {
    const std::string& arg = args[i];
    if (!absl::StartsWith(arg, "-") || arg == "-") {
      if (arg == "validate" || arg == "verify-cache" || arg == "control-plane" ||
          arg == "prefill" || arg == "export") {
        return UsageError(absl::StrCat("\"", arg, "\" must come first"));
      }
      return UsageError(absl::StrCat("unexpected argument \"", arg, "\""));
    }
    size_t equals = arg.find('=');
    std::string name = arg.substr(0, equals);
    if (name == "--no-watch" && equals == std::string::npos) {
      cl.watch_config = false;
      continue;
    }
    if (IsSwitch(name) || name == "--no-watch") {
      return UsageError(absl::StrCat(name, " does not take a value"));
    }
    if (!TakesValue(name)) return UsageError(absl::StrCat("unknown flag \"", name, "\""));
    std::string value;
    if (equals != std::string::npos) {
      value = arg.substr(equals + 1);
    } else if (i + 1 < args.size()) {
      value = args[++i];
    } else {
      return UsageError(absl::StrCat(name, " requires a value"));
    }
    if (absl::Status status = SetFlag(name, value, cl); !status.ok()) return status;
  }
  if (cl.mode == CommandLine::Mode::kValidate && cl.config_path.empty()) {
    return UsageError("validate requires -c FILE");
  }
  if (cl.mode == CommandLine::Mode::kPrefill && cl.prefill_input.empty()) {
    return UsageError("prefill requires one of --go-sum FILE, --go-mod FILE and --list FILE");
  }
  if (cl.mode == CommandLine::Mode::kControlPlane && cl.config_path.empty()) {
    return UsageError("control-plane requires -c FILE");
  }
  return cl;
}

absl::StatusOr<v1::Bootstrap> BuildBootstrap(const CommandLine& cl, std::string* source_text,
                                             const v1::DynamicConfig* dynamic) {
  const std::string source =
      cl.config_path.empty() ? std::string("<built-in config>") : cl.config_path;
  absl::StatusOr<v1::Bootstrap> loaded;
  if (cl.config_path.empty()) {
    if (source_text != nullptr) source_text->assign(DefaultConfigYaml());
    loaded = LoadYaml(DefaultConfigYaml());
    if (!loaded.ok()) return PrefixLines(loaded.status(), source);
  } else {
    absl::StatusOr<std::string> text = ReadConfigFile(cl.config_path);
    if (!text.ok()) return text.status();
    if (source_text != nullptr) *source_text = *text;
    loaded = LoadText(cl.config_path, *text);  // Already prefixes its errors.
    if (!loaded.ok()) return loaded.status();
  }
  v1::Bootstrap bootstrap = *std::move(loaded);

  if (cl.listen) {
    bootstrap.clear_listeners();
    v1::Listener* listener = bootstrap.add_listeners();
    listener->set_name(std::string(kDefaultListenerName));
    listener->set_address(*cl.listen);
  }
  if (cl.admin) bootstrap.mutable_admin()->set_address(*cl.admin);
  if (cl.upstream) {
    absl::StatusOr<std::vector<ProxyListEntry>> entries = ParseProxyList(*cl.upstream);
    if (!entries.ok()) return PrefixLines(entries.status(), "--upstream");
    ApplyProxyList(*entries, bootstrap);
  }
  if (cl.cache_dir) bootstrap.mutable_cache()->set_dir(*cl.cache_dir);
  if (cl.cache_max_bytes)
    bootstrap.mutable_cache()->mutable_max_bytes()->set_value(*cl.cache_max_bytes);
  if (cl.concurrency) bootstrap.set_concurrency(*cl.concurrency);
  if (cl.log_level) bootstrap.set_log_level(*cl.log_level);
  if (dynamic != nullptr) {
    if (!bootstrap.has_control_plane()) {
      return absl::FailedPreconditionError(
          absl::StrCat(source, ": control_plane: not set, but a dynamic config was given"));
    }
    absl::StatusOr<v1::Bootstrap> merged = MergeDynamicConfig(bootstrap, *dynamic);
    if (!merged.ok()) return PrefixLines(merged.status(), source);
    bootstrap = *std::move(merged);
  }

  ApplyDefaults(bootstrap);
  if (absl::Status status = Validate(bootstrap); !status.ok()) {
    // Point at the line, as syntax errors do (the text is read again: this
    // is the error path only).
    std::string text(DefaultConfigYaml());
    if (!cl.config_path.empty()) {
      std::ifstream file(cl.config_path, std::ios::binary);
      std::stringstream buffer;
      buffer << file.rdbuf();
      text = buffer.str();
    }
    return PrefixLines(AnnotateLines(status, text), source);
  }
  return bootstrap;
}

}  // namespace modgate::config
