#pragma once

#include "source/common/buffer/buffer.h"

struct bio_st;

namespace modgate::tls {

// A write-only BIO that appends what BoringSSL writes (TLS records) to
// `out`, which must outlive it. A memory BIO would hold the records in its
// own buffer until they are read out: one more copy of every byte sent, and
// BoringSSL's memory BIO moves what is left to the front on every partial
// read. Reads fail; BIO_flush succeeds (nothing is held back).
bio_st* newBufferWriteBio(buffer::Buffer& out);

}  // namespace modgate::tls
