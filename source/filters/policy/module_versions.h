#pragma once

#include <functional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "source/filters/goproxy/goproxy_config.h"
#include "source/filters/goproxy/worker_context.h"
#include "source/goproxy/request.h"
#include "source/goproxy/retract.h"

namespace modgate::filters::policy {

// What the module policy needs to know about a module's versions to judge
// one of them, or to filter its @v/list: the list, and the retract
// directives of its latest version's go.mod.
struct ModuleVersions {
  // The @v/list lines, in the upstream's order; empty when the upstream
  // has no list (404/410).
  std::vector<std::string> list;
  std::vector<::modgate::goproxy::VersionInterval> retractions;

  bool retracted(std::string_view version) const {
    return ::modgate::goproxy::IsRetracted(retractions, version);
  }
};
using ModuleVersionsCallback = std::function<void(absl::StatusOr<ModuleVersions>)>;

// Reads @v/list of `request`'s module and, with `retractions`, the go.mod
// of its latest version (the highest release in the list, else the
// highest prerelease, else what @latest names: as the go command chooses
// it), all through the cache as clients' requests are served
// (goproxy::readCachedFile: single flight, the route `principals` match,
// a go.mod verified against the checksum database before it is cached).
// `cb` runs later on `worker`'s dispatcher; an error means the upstream
// could not be asked (a 404 list is an empty list, a 404 go.mod no
// retractions).
void readModuleVersions(const goproxy::GoproxyConfigSharedPtr& config,
                        goproxy::WorkerContext& worker, const ::modgate::goproxy::Request& request,
                        const std::vector<std::string>& principals, bool retractions,
                        ModuleVersionsCallback cb);

// The "Version" of an .info or @latest answer, or "" when it has none.
std::string infoVersion(const std::string& info_json);

}  // namespace modgate::filters::policy
