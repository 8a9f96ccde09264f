#include "source/config/dynamic_config.h"

#include <map>

#include "absl/strings/str_cat.h"
#include "google/protobuf/io/coded_stream.h"
#include "google/protobuf/io/zero_copy_stream_impl_lite.h"
#include "source/common/filesystem/atomic_file.h"
#include "source/config/error_list.h"

namespace modgate::config {
namespace {

// Appends `dynamic` to `merged`, reporting names already there.
template <typename Resource>
void AppendNamed(const google::protobuf::RepeatedPtrField<Resource>& dynamic,
                 google::protobuf::RepeatedPtrField<Resource>& merged, absl::string_view field,
                 ErrorList& errors) {
  std::map<std::string, int> static_names;
  for (int i = 0; i < merged.size(); ++i) static_names.emplace(merged.Get(i).name(), i);
  for (const Resource& resource : dynamic) {
    const int index = merged.size();
    *merged.Add() = resource;
    if (static_names.contains(resource.name())) {
      errors.Add(absl::StrCat(field, "[", index, "].name"),
                 absl::StrCat("\"", resource.name(),
                              "\" is defined both in the local file and by the control plane"));
    }
  }
}

}  // namespace

absl::StatusOr<v1::Bootstrap> MergeDynamicConfig(const v1::Bootstrap& local,
                                                 const v1::DynamicConfig& dynamic) {
  v1::Bootstrap merged = local;
  ErrorList errors;
  AppendNamed(dynamic.listeners(), *merged.mutable_listeners(), "listeners", errors);
  AppendNamed(dynamic.clusters(), *merged.mutable_clusters(), "clusters", errors);
  AppendNamed(dynamic.sumdbs(), *merged.mutable_sumdbs(), "sumdbs", errors);
  for (const v1::Route& route : dynamic.routes()) *merged.add_routes() = route;
  for (const auto& [key, value] : dynamic.runtime()) (*merged.mutable_runtime())[key] = value;
  if (absl::Status status = errors.ToStatus(); !status.ok()) return status;
  return merged;
}

std::string DeterministicBytes(const v1::DynamicConfig& dynamic) {
  std::string bytes;
  {
    google::protobuf::io::StringOutputStream output(&bytes);
    google::protobuf::io::CodedOutputStream coded(&output);
    coded.SetSerializationDeterministic(true);
    dynamic.SerializeToCodedStream(&coded);
  }  // the coded stream flushes into `bytes` here
  return bytes;
}

std::string DynamicConfigPath(const std::string& cache_dir) {
  return absl::StrCat(cache_dir, "/control_plane/last_acked.pb");
}

absl::Status SaveDynamicConfig(const std::string& path, const v1::DynamicConfig& dynamic) {
  std::string bytes;
  if (!dynamic.SerializeToString(&bytes)) {
    return absl::InternalError("cannot serialize the dynamic config");
  }
  return filesystem::WriteFileAtomically(path, bytes);
}

absl::StatusOr<std::optional<v1::DynamicConfig>> LoadDynamicConfig(const std::string& path) {
  absl::StatusOr<std::optional<std::string>> bytes = filesystem::ReadSmallFile(path);
  if (!bytes.ok()) return bytes.status();
  if (!bytes->has_value()) return std::nullopt;
  v1::DynamicConfig dynamic;
  if (!dynamic.ParseFromString(**bytes)) {
    return absl::DataLossError(absl::StrCat(path, ": not a saved dynamic config"));
  }
  return dynamic;
}

}  // namespace modgate::config
