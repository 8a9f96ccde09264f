#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "source/common/crypto/sha256.h"

// SHA-256 and standard base64: what the checksum database's
// formats (go.sum hashes, tree hashes, note signatures) are built from.
namespace modgate::sumdb {

// SHA-256 is crypto's (BoringSSL's, with its assembly: a module zip is
// hashed whole, so speed matters); the formats below name it here.
using Sha256 = crypto::Sha256;
using Sha256Digest = crypto::Sha256Digest;

// Standard base64 with padding (Go's base64.StdEncoding).
std::string Base64Encode(const void* data, size_t size);
// Strict standard base64 with padding: nullopt on any other character,
// missing padding or trailing garbage.
std::optional<std::string> Base64Decode(std::string_view text);

}  // namespace modgate::sumdb
