#pragma once

#include "source/filters/goproxy/fetch.h"
#include "source/filters/goproxy/goproxy_config.h"
#include "source/filters/goproxy/worker_context.h"
#include "source/goproxy/request.h"
#include "source/router/route_table.h"

namespace modgate::filters::goproxy {

// Fills the cache with a version's .mod when its .info misses.
//
// The go command asks for a version's .info and, as soon as it has it, for
// its .mod (`go mod download`, `go get`, the module graph of a build): on a
// cold cache that is two upstream round trips one after the other, which
// is why a cold modgate was slower than the go command asking the origin
// directly (issue 12, target 5; tools/bench/cold_path.py). Started beside the
// .info's fetch, the .mod's round trip overlaps it; the client's .mod
// request then joins the fill under way (single flight) or hits the cache.
//
// `info_target` is the .info's fetch target on `route` (null for none):
// the .mod goes the same way (same route chain or chosen split cluster,
// same hashing affinity) and is filled like any .mod (startCacheFill:
// verified, shadowed). Nothing happens when `info` is not the .info of a
// canonical version, when the .mod is cached and fresh, or when a fill of
// it is already under way.
void prefetchModForInfo(const GoproxyConfigSharedPtr& config, WorkerContext& worker,
                        const modgate::goproxy::Request& info, const router::Route* route,
                        const Fetch::Target& info_target);

}  // namespace modgate::filters::goproxy
