#pragma once

#include <memory>

#include "source/common/common/thread_pool.h"
#include "source/common/event/dispatcher.h"
#include "source/upstream/http_client.h"

namespace modgate::upstream {

// The HttpClient of file:///DIR endpoints: a GOPROXY file tree (a cache
// exported with `modgate export` and carried into an air gap, or a
// directory of internal modules a team publishes) answered the way an HTTP
// origin would answer, so that routing, fallback, validation, caching and
// outlier detection treat it like any other upstream:
// - a regular file: 200 with content-length and last-modified, the body in
//   chunks paced by readDisable();
// - a missing file or a directory: 404 (GOPROXY's "not found", so a
//   fallback to the next upstream applies);
// - any other error (permissions, I/O): 500 with the reason.
// open(), fstat() and pread() run on `pool`, never on the dispatcher;
// callbacks run on the dispatcher and never inside send(). A path with a
// "." or ".." segment, a NUL or a backslash is answered 400 and never
// touches the file system. Dispatcher thread only; destroying the client
// abandons its requests silently.
std::unique_ptr<HttpClient> createFileOriginClient(event::Dispatcher& dispatcher,
                                                   common::ThreadPool& pool);

}  // namespace modgate::upstream
