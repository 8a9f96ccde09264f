#pragma once

#include <nghttp2/nghttp2.h>

#include <cstddef>

namespace modgate::http::http2 {

// The allocator the downstream HTTP/2 sessions give nghttp2: small blocks
// come from per-thread free lists (HAProxy's pools, in a few lines).
//
// Why: a request makes nghttp2 allocate about six small blocks (the stream,
// its HEADERS and DATA items, the copied header fields, reference-counted
// header buffers) and free them when the stream closes. With 32 streams in
// flight on a connection, more blocks of one size are freed together than
// glibc's per-thread cache keeps (7 per size), so most of them went through
// malloc's slower bins (benchmark: warm h2c .info).
//
// Blocks up to kMaxPooledBytes are rounded up to a multiple of kClassBytes
// and kept on that class's free list when freed, up to kMaxCachedBytes per
// thread; larger blocks, and any beyond that bound, go back to malloc. A
// session runs on one thread, so the lists need no locks; a block freed on
// another thread than the one that allocated it simply joins that thread's
// lists (it is plain malloc memory). Each thread's lists are freed when it
// exits.
class SessionMemory {
 public:
  static constexpr size_t kClassBytes = 64;
  static constexpr size_t kMaxPooledBytes = 1024;
  static constexpr size_t kMaxCachedBytes = 256 * 1024;

  // The nghttp2_mem to pass to nghttp2_session_server_new3().
  static nghttp2_mem* get();

  // For tests and stats: bytes this thread keeps on its free lists.
  static size_t cachedBytes();
};

}  // namespace modgate::http::http2
