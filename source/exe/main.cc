// modgate: a caching, routing GOPROXY for the go command.
//
// main only parses the command line, builds the bootstrap config and hands
// it to the server; everything else lives in source/server and below.

#include <sys/resource.h>
#include <unistd.h>

#include <cstdio>
#include <string>

#include "source/common/common/logger.h"
#include "source/common/common/version.h"
#include "source/config/command_line.h"
#include "source/config/config_dump.h"
#include "source/config/loader.h"
#include "source/control_plane/control_plane_server.h"
#include "source/exe/admin_client.h"
#include "source/exe/cache_export.h"
#include "source/exe/prefill_command.h"
#include "source/server/server.h"

namespace {
// This binary, to start a server of the same build for prefill.
std::string SelfPath(const char* argv0) {
  char path[4096];
  const ssize_t n = ::readlink("/proc/self/exe", path, sizeof(path) - 1);
  return n > 0 ? std::string(path, static_cast<size_t>(n)) : std::string(argv0);
}

// `modgate control-plane -c FILE`: a different server from the same binary.
int runControlPlane(const modgate::config::CommandLine& command_line) {
  modgate::controlplane::v1::ControlPlane config;
  absl::Status status = modgate::config::LoadMessageFile(command_line.config_path, config);
  if (!status.ok()) {
    fprintf(stderr, "modgate: invalid control plane configuration:\n%s\n",
            std::string(status.message()).c_str());
    return 1;
  }
  modgate::log::Level level = modgate::log::Level::kInfo;
  if (command_line.log_level) modgate::log::parseLevel(*command_line.log_level, level);
  modgate::log::setLevel(level);
  if (config.state_dir().empty()) config.set_state_dir(command_line.config_path + ".state");
  modgate::control_plane::ControlPlaneServer server(std::move(config));
  status = server.initialize();
  if (!status.ok()) {
    fprintf(stderr, "modgate: control plane cannot start:\n%s\n",
            std::string(status.message()).c_str());
    return 1;
  }
  server.run();
  return 0;
}
}  // namespace

int main(int argc, char** argv) {
  auto command_line = modgate::config::ParseCommandLine(argc, argv);
  if (!command_line.ok()) {
    fprintf(stderr, "modgate: %s\n\n%s", std::string(command_line.status().message()).c_str(),
            std::string(modgate::config::UsageText()).c_str());
    return 2;
  }
  using Mode = modgate::config::CommandLine::Mode;
  switch (command_line->mode) {
    case Mode::kHelp:
      fputs(std::string(modgate::config::UsageText()).c_str(), stdout);
      return 0;
    case Mode::kVersion:
      printf("modgate %s (%s)\n", modgate::kVersion, modgate::kBuild);
      return 0;
    case Mode::kControlPlane:
      return runControlPlane(*command_line);
    default:
      break;
  }

  std::string config_text;
  auto bootstrap = modgate::config::BuildBootstrap(*command_line, &config_text);
  if (!bootstrap.ok()) {
    fprintf(stderr, "modgate: invalid configuration:\n%s\n",
            std::string(bootstrap.status().message()).c_str());
    return 1;
  }
  if (command_line->mode == Mode::kVerifyCache) {
    return modgate::exe::runVerifyCache(bootstrap->has_admin() &&
                                                !bootstrap->admin().address().empty()
                                            ? bootstrap->admin().address()
                                            : std::string("127.0.0.1:9901"));
  }
  if (command_line->mode == Mode::kPrefill) {
    return modgate::exe::runPrefill(*command_line, *bootstrap, SelfPath(argv[0]));
  }
  if (command_line->mode == Mode::kExport) {
    return modgate::exe::runExport({.cache_dir = bootstrap->cache().dir(),
                                    .out_dir = command_line->export_dir,
                                    .modules = command_line->export_modules});
  }
  if (command_line->mode == Mode::kValidate) {
    // The effective config (defaults filled in, secrets redacted), then OK.
    printf("%s\n", modgate::config::DumpJson(*bootstrap).c_str());
    fprintf(stderr, "%s: OK\n", command_line->config_path.c_str());
    return 0;
  }

  modgate::log::Level level = modgate::log::Level::kInfo;
  if (!bootstrap->log_level().empty()) modgate::log::parseLevel(bootstrap->log_level(), level);
  modgate::log::setLevel(level);

  // Each connection and each cached open file takes a descriptor; the
  // default soft limit (1024) is far below what an edge proxy needs.
  rlimit files;
  if (getrlimit(RLIMIT_NOFILE, &files) == 0 && files.rlim_cur < files.rlim_max) {
    files.rlim_cur = files.rlim_max;
    setrlimit(RLIMIT_NOFILE, &files);
  }

  modgate::server::Server server(std::move(*bootstrap));
  // Reloads (SIGHUP, admin POST /reload, file changes) re-read the same
  // file with the same command-line overrides.
  const bool watch = command_line->watch_config;
  server.setConfigSource(modgate::server::commandLineConfigSource(*command_line),
                         modgate::server::sha256Hex(config_text), watch);
  absl::Status status = server.initialize();
  if (!status.ok()) {
    LOG_ERROR("cannot start: ", std::string(status.message()));
    return 1;
  }
  server.run();
  return 0;
}
