#include "source/config/xds/resource_state.h"

#include "absl/strings/str_cat.h"
#include "api/modgate/config/v1/resources.pb.h"
#include "source/config/error_list.h"

namespace modgate::config::xds {
namespace {

constexpr std::string_view kRouteTableName = "routes";
constexpr std::string_view kRuntimeName = "runtime";

// The key of DynamicConfig.resource_versions.
std::string versionKey(std::string_view type_url, std::string_view name) {
  return std::string(type_url) + " " + std::string(name);
}

template <typename Message>
bool unpack(const google::protobuf::Any& any, std::string_view type_url, Message& out) {
  return any.type_url() == type_url && any.UnpackTo(&out);
}

// The resource name a SotW resource goes by, from its content.
absl::StatusOr<std::string> nameOf(const std::string& type_url, const google::protobuf::Any& any) {
  if (type_url == kListenerType) {
    v1::Listener listener;
    if (unpack(any, type_url, listener)) return listener.name();
  } else if (type_url == kClusterType) {
    v1::Cluster cluster;
    if (unpack(any, type_url, cluster)) return cluster.name();
  } else if (type_url == kSumDbType) {
    v1::SumDb sumdb;
    if (unpack(any, type_url, sumdb)) return sumdb.name();
  } else if (type_url == kRouteTableType) {
    v1::RouteTable table;
    if (unpack(any, type_url, table)) return std::string(kRouteTableName);
  } else if (type_url == kRuntimeType) {
    v1::Runtime runtime;
    if (unpack(any, type_url, runtime)) return std::string(kRuntimeName);
  } else {
    return absl::InvalidArgumentError(absl::StrCat("unknown resource type ", type_url));
  }
  return absl::InvalidArgumentError(absl::StrCat(
      "a resource of type ", type_url, " does not parse as one (it is ", any.type_url(), ")"));
}

}  // namespace

const std::vector<std::string>& subscribedTypes() {
  static const auto* types = new std::vector<std::string>{
      std::string(kClusterType), std::string(kSumDbType), std::string(kRouteTableType),
      std::string(kRuntimeType), std::string(kListenerType)};
  return *types;
}

ResourceState ResourceState::fromDynamicConfig(const v1::DynamicConfig& dynamic) {
  ResourceState state;
  auto add = [&](std::string_view type_url, const std::string& name,
                 const google::protobuf::Message& message) {
    StoredResource stored;
    auto it = dynamic.resource_versions().find(versionKey(type_url, name));
    if (it != dynamic.resource_versions().end()) stored.version = it->second;
    stored.resource.PackFrom(message);
    state.types_[std::string(type_url)][name] = std::move(stored);
  };
  for (const auto& listener : dynamic.listeners()) add(kListenerType, listener.name(), listener);
  for (const auto& cluster : dynamic.clusters()) add(kClusterType, cluster.name(), cluster);
  for (const auto& sumdb : dynamic.sumdbs()) add(kSumDbType, sumdb.name(), sumdb);
  if (dynamic.resource_versions().contains(versionKey(kRouteTableType, kRouteTableName)) ||
      !dynamic.routes().empty()) {
    v1::RouteTable table;
    *table.mutable_routes() = dynamic.routes();
    add(kRouteTableType, std::string(kRouteTableName), table);
  }
  if (dynamic.resource_versions().contains(versionKey(kRuntimeType, kRuntimeName)) ||
      !dynamic.runtime().empty()) {
    v1::Runtime runtime;
    *runtime.mutable_values() = dynamic.runtime();
    add(kRuntimeType, std::string(kRuntimeName), runtime);
  }
  // Everything the config was made of was known then: an absent type was
  // empty.
  for (const std::string& type : subscribedTypes()) state.known_types_.insert(type);
  state.type_versions_ = {dynamic.type_versions().begin(), dynamic.type_versions().end()};
  return state;
}

absl::StatusOr<v1::DynamicConfig> ResourceState::toDynamicConfig() const {
  v1::DynamicConfig dynamic;
  ErrorList errors;
  for (const auto& [type_url, resources] : types_) {
    for (const auto& [name, stored] : resources) {
      const std::string where = absl::StrCat("resource \"", name, "\" (", type_url, ")");
      auto named = nameOf(type_url, stored.resource);
      if (!named.ok()) {
        errors.Add(where, named.status().message());
        continue;
      }
      if (*named != name) {
        errors.Add(where, absl::StrCat("holds \"", *named, "\": the name must match"));
        continue;
      }
      (*dynamic.mutable_resource_versions())[versionKey(type_url, name)] = stored.version;
      if (type_url == kListenerType) {
        stored.resource.UnpackTo(dynamic.add_listeners());
      } else if (type_url == kClusterType) {
        stored.resource.UnpackTo(dynamic.add_clusters());
      } else if (type_url == kSumDbType) {
        stored.resource.UnpackTo(dynamic.add_sumdbs());
      } else if (type_url == kRouteTableType) {
        v1::RouteTable table;
        stored.resource.UnpackTo(&table);
        *dynamic.mutable_routes() = table.routes();
      } else if (type_url == kRuntimeType) {
        v1::Runtime runtime;
        stored.resource.UnpackTo(&runtime);
        *dynamic.mutable_runtime() = runtime.values();
      }
    }
  }
  if (absl::Status status = errors.ToStatus(); !status.ok()) return status;
  for (const auto& [type, version] : type_versions_)
    (*dynamic.mutable_type_versions())[type] = version;
  return dynamic;
}

void ResourceState::applyDelta(
    const envoy::service::discovery::v3::DeltaDiscoveryResponse& response) {
  Resources& resources = types_[response.type_url()];
  for (const auto& resource : response.resources()) {
    resources[resource.name()] = StoredResource{resource.version(), resource.resource()};
  }
  for (const std::string& name : response.removed_resources()) resources.erase(name);
  known_types_.insert(response.type_url());
}

absl::Status ResourceState::applySotw(
    const envoy::service::discovery::v3::DiscoveryResponse& response) {
  Resources resources;
  for (const google::protobuf::Any& any : response.resources()) {
    auto name = nameOf(response.type_url(), any);
    if (!name.ok()) return name.status();
    resources[*name] = StoredResource{response.version_info(), any};
  }
  types_[response.type_url()] = std::move(resources);
  known_types_.insert(response.type_url());
  return absl::OkStatus();
}

std::map<std::string, std::string> ResourceState::versions(const std::string& type_url) const {
  std::map<std::string, std::string> out;
  auto it = types_.find(type_url);
  if (it == types_.end()) return out;
  for (const auto& [name, stored] : it->second) out[name] = stored.version;
  return out;
}

}  // namespace modgate::config::xds
