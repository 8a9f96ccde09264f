#pragma once

#include "absl/status/status.h"
#include "api/modgate/config/v1/bootstrap.pb.h"

namespace modgate::server {

// The fields a running server cannot take from a reload, because what they
// size or open exists once per process: concurrency (the worker threads),
// admin.address (the listener answering the reload itself), cache.dir,
// cache.max_bytes, cache.hot_object_max_bytes and cache.hot_cache_max_bytes
// (the open cache and its memory), and every limits.* field (the settings
// every open connection holds a reference to). bootstrap.proto documents
// the same list.
//
// OK when `next` keeps all of them as `running` has them, else
// InvalidArgument with one line per changed field:
//   concurrency: 2 -> 4: requires a restart
absl::Status checkRestartOnlyFields(const config::v1::Bootstrap& running,
                                    const config::v1::Bootstrap& next);

}  // namespace modgate::server
