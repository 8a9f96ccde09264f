#include "source/upstream/load_balancer/module_path_hash.h"

#include "source/upstream/load_balancer/xxhash64.h"

namespace modgate::upstream {

uint64_t hashModulePath(std::string_view module_path) { return xxHash64(module_path, 0); }

}  // namespace modgate::upstream
