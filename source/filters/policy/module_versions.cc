#include "source/filters/policy/module_versions.h"

#include <google/protobuf/struct.pb.h>
#include <google/protobuf/util/json_util.h>

#include <memory>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "source/filters/goproxy/cached_files.h"
#include "source/goproxy/module_path.h"

namespace modgate::filters::policy {
namespace {

using ::modgate::goproxy::Request;

// The state of one read: the list first, then (for retractions) the
// latest version's go.mod, maybe by way of @latest.
struct Read {
  goproxy::GoproxyConfigSharedPtr config;
  goproxy::WorkerContext* worker;
  std::string escaped_module;
  std::vector<std::string> principals;
  ModuleVersionsCallback cb;
  ModuleVersions result;
};
using ReadPtr = std::shared_ptr<Read>;

void finish(const ReadPtr& read, absl::Status error) {
  if (!error.ok()) {
    read->cb(std::move(error));
    return;
  }
  read->cb(std::move(read->result));
}

void readGoMod(const ReadPtr& read, const std::string& version) {
  auto escaped = ::modgate::goproxy::EscapeVersion(version);
  if (!escaped.ok()) {
    finish(read, absl::OkStatus());  // not a version the go command would ask about
    return;
  }
  goproxy::readCachedFile(
      read->config, *read->worker,
      absl::StrCat("/", read->escaped_module, "/@v/", *escaped, ".mod"), read->principals,
      [read](absl::StatusOr<std::string> body) {
        if (body.ok()) {
          read->result.retractions = ::modgate::goproxy::ParseRetractions(*body);
        } else if (!absl::IsNotFound(body.status())) {
          finish(read,
                 absl::UnavailableError(absl::StrCat("latest go.mod: ", body.status().message())));
          return;
        }
        finish(read, absl::OkStatus());
      });
}

}  // namespace

std::string infoVersion(const std::string& info_json) {
  google::protobuf::Struct info;
  google::protobuf::util::JsonParseOptions options;
  options.ignore_unknown_fields = true;
  if (!google::protobuf::util::JsonStringToMessage(info_json, &info, options).ok()) return "";
  auto it = info.fields().find("Version");
  if (it == info.fields().end() || !it->second.has_string_value()) return "";
  return it->second.string_value();
}

void readModuleVersions(const goproxy::GoproxyConfigSharedPtr& config,
                        goproxy::WorkerContext& worker, const Request& request,
                        const std::vector<std::string>& principals, bool retractions,
                        ModuleVersionsCallback cb) {
  auto read = std::make_shared<Read>();
  read->config = config;
  read->worker = &worker;
  read->escaped_module = request.escaped_module;
  read->principals = principals;
  read->cb = std::move(cb);
  goproxy::readCachedFile(
      config, worker, absl::StrCat("/", request.escaped_module, "/@v/list"), principals,
      [read, retractions](absl::StatusOr<std::string> body) {
        if (body.ok()) {
          for (absl::string_view line : absl::StrSplit(*body, '\n', absl::SkipWhitespace())) {
            while (!line.empty() && (line.back() == '\r' || line.back() == ' ')) {
              line.remove_suffix(1);
            }
            read->result.list.emplace_back(line);
          }
        } else if (!absl::IsNotFound(body.status())) {
          finish(read, absl::UnavailableError(absl::StrCat("@v/list: ", body.status().message())));
          return;
        }
        if (!retractions) {
          finish(read, absl::OkStatus());
          return;
        }
        std::string latest = ::modgate::goproxy::LatestForRetractions(read->result.list);
        if (!latest.empty()) {
          readGoMod(read, latest);
          return;
        }
        // No listed version (only pseudo-versions): @latest names it.
        goproxy::readCachedFile(read->config, *read->worker,
                                absl::StrCat("/", read->escaped_module, "/@latest"),
                                read->principals, [read](absl::StatusOr<std::string> info) {
                                  std::string version = info.ok() ? infoVersion(*info) : "";
                                  if (version.empty()) {
                                    finish(read, absl::OkStatus());
                                    return;
                                  }
                                  readGoMod(read, version);
                                });
      });
}

}  // namespace modgate::filters::policy
