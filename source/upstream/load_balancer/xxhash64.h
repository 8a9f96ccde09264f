#pragma once

#include <cstdint>
#include <string_view>

namespace modgate::upstream {

// XXH64 (Yann Collet's xxHash, 64-bit variant), from Debian's libxxhash, the
// library Envoy uses: the result is defined on the little-endian reading of
// the bytes, whatever the host's byte order.
// Ring hash and Maglev place hosts with it, as Envoy does, so placements are
// stable across builds and machines. Not a cryptographic hash.
uint64_t xxHash64(std::string_view data, uint64_t seed = 0);

}  // namespace modgate::upstream
