#pragma once

#include "source/common/buffer/buffer.h"
#include "source/common/crypto/sha256.h"

namespace modgate::crypto {

// Feeds every slice of `data` to `sha` without copying or draining it: a
// body is hashed as it passes through, on its way to the client or disk.
void hashBuffer(const buffer::Buffer& data, Sha256& sha);

}  // namespace modgate::crypto
