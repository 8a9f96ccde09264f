#pragma once

#include <string>

#include "api/modgate/config/v1/bootstrap.pb.h"
#include "source/config/command_line.h"

namespace modgate::exe {

// modgate prefill [-c FILE] (--go-sum FILE | --go-mod FILE | --list FILE)
// [--parallel N]: fills the cache of the config with every listed module
// version. When a modgate already serves that cache directory (it holds
// the directory's lock), the requests go to its first plain listener;
// otherwise this starts one (`self`, the same config and overrides, on
// free loopback ports), fills the cache through it and stops it.
int runPrefill(const config::CommandLine& command_line, const config::v1::Bootstrap& bootstrap,
               const std::string& self);

}  // namespace modgate::exe
