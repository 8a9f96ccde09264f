#pragma once

#include <memory>

#include "source/cache/cache.h"
#include "source/cache/inflight.h"
#include "source/filters/goproxy/fetch.h"
#include "source/filters/goproxy/goproxy_config.h"
#include "source/filters/goproxy/worker_context.h"
#include "source/goproxy/request.h"
#include "source/router/route_table.h"

namespace modgate::filters::goproxy {

// Starts the fetch that fills `inflight`, the single flight of `request`,
// from `target`, with the sinks every fill has: CacheFillSink into the
// cache; a ServedDigestSink and a separate shadow fetch when `route` (may
// be null: a checksum database) shadows this artifact; a VerifyingSink
// outermost when the content is verified, holding it back from the waiters
// until the checksum database vouched for it. Used by a client's miss and
// by the fills modgate starts on its own (the .mod a .info miss fetches).
// `expired`: an expired copy being revalidated (may be null).
void startCacheFill(const GoproxyConfigSharedPtr& config, WorkerContext& worker,
                    const modgate::goproxy::Request& request, const router::Route* route,
                    std::shared_ptr<cache::Inflight> inflight, Fetch::Target target,
                    std::shared_ptr<const cache::Entry> expired);

}  // namespace modgate::filters::goproxy
