#pragma once

#include <string_view>
#include <vector>

#include "api/modgate/admin/v1/cache.pb.h"
#include "source/admin/admin.h"
#include "source/cache/cache.h"
#include "source/common/stats/request_latency.h"

namespace modgate::server {

using admin::Admin;

// GET /cache: the cache by kind (entries, bytes, hit ratio from the
// workers' request histograms), its oldest entry and the disk's free space.
// Main thread: walks a copy of the index, O(entries).
admin::v1::CacheReport cacheReport(const cache::Cache& cache,
                                   const std::vector<const stats::RequestLatency*>& latency);

// POST /cache/purge?module=M[&version=V]: removes M's entries (or V's .info,
// .mod and .zip), and M's list and @latest either way, so they are fetched
// again next time. 400 naming the parameter when M or V is not valid.
Admin::Response purgeModule(cache::Cache& cache, std::string_view query);

// GET /cache/modules?top=N[&by=hits|bytes]: the N modules (default 20, at
// most 1000) with the most cache hits or bytes, each with its hits, bytes,
// entries and cached versions. Main thread: O(entries) over a copy of the
// index; hits count from this process's start.
Admin::Response topModules(const cache::Cache& cache, std::string_view query);

}  // namespace modgate::server
