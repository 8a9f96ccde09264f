#pragma once

#include <cstdint>
#include <string_view>

namespace modgate::upstream {

// The affinity hash for a Go module path, for LoadBalancerContext::hashKey():
// XXH64 with seed 0 over the path's bytes exactly as given (see xxHash64()).
//
// Pass the module path alone ("golang.org/x/mod", in the case-encoded form
// the GOPROXY URL carries, e.g. "github.com/!azure/go"), not the version or
// the file name, so that every request for a module (list, .info, .mod, .zip
// of any version) lands on the same upstream and its cache.
//
// The value is part of modgate's behaviour: changing the function reshuffles
// every module across upstreams, so it must stay fixed.
uint64_t hashModulePath(std::string_view module_path);

}  // namespace modgate::upstream
