#pragma once

#include <string_view>

namespace modgate::config {

// The configuration used when modgate runs without -c FILE: listen on
// 127.0.0.1:8080, admin on 127.0.0.1:9901, cache in the default directory,
// everything (including the sum.golang.org checksum database) proxied to
// https://proxy.golang.org. YAML, as a user would write it, so it doubles
// as an example and goes through the same loader as files.
std::string_view DefaultConfigYaml();

}  // namespace modgate::config
