#pragma once

#include <functional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "source/filters/goproxy/goproxy_config.h"
#include "source/filters/goproxy/worker_context.h"

namespace modgate::filters::goproxy {

using CachedFileCallback = std::function<void(absl::StatusOr<std::string> body)>;

// Reads the small answer to GOPROXY request `path` ("/<module>/@v/list",
// "/<module>/@v/<version>.mod", "/sumdb/<db>/tile/8/0/000.p/46") the way a
// client's request for it would be served: from the cache, or fetched once
// (single flight with any client asking the same) through the route that
// `principals` would match (a sumdb with its own URL: that URL), and cached
// as such; a .mod or .zip is verified against the checksum database first
// when a client's would be (VerifyingSink). `cb` runs later on `worker`'s
// dispatcher with the body, or why there is none (a non-200 answer is a
// NotFound error naming its status). For small answers only (lists, go.mod
// files, lookups, tiles): the body is read into memory, at most 1 MiB.
void readCachedFile(const GoproxyConfigSharedPtr& config, WorkerContext& worker,
                    const std::string& path, const std::vector<std::string>& principals,
                    CachedFileCallback cb);

// readCachedFile of checksum database `db`'s file ("lookup/<module>@<version>",
// "tile/8/0/000.p/46"), i.e. of /sumdb/<db>/<file>. A fill's body is given
// as soon as all its announced bytes are written, before the cache commits
// it: these files are checked by signature and proof, not by being cached.
void readSumdbFile(const GoproxyConfigSharedPtr& config, WorkerContext& worker,
                   const std::string& db, const std::string& file, CachedFileCallback cb);

}  // namespace modgate::filters::goproxy
