#pragma once

#include <functional>
#include <string>

#include "absl/status/statusor.h"
#include "source/filters/goproxy/goproxy_config.h"
#include "source/filters/goproxy/worker_context.h"

namespace modgate::filters::goproxy {

using SumdbFileCallback = std::function<void(absl::StatusOr<std::string> body)>;

// Reads one file of checksum database `db` ("lookup/<module>@<version>",
// "tile/8/0/000.p/46") the way a client's request for
// /sumdb/<db>/<file> would be served: from the cache, or fetched once
// (single flight with any client asking the same) through the database's
// own URL or the route for SUMDB requests, and cached as such. `cb` runs
// later on `worker`'s dispatcher with the body, or why there is none. For
// small answers only (lookups, tiles): the body is read into memory.
void readSumdbFile(const GoproxyConfigSharedPtr& config, WorkerContext& worker,
                   const std::string& db, const std::string& file, SumdbFileCallback cb);

}  // namespace modgate::filters::goproxy
