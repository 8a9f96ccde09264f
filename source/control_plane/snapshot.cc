#include "source/control_plane/snapshot.h"

#include "source/common/tls/boringssl.h"
// clang-format off: boringssl.h must come first.
#include <openssl/sha.h>
// clang-format on

#include <google/protobuf/io/coded_stream.h>
#include <google/protobuf/io/zero_copy_stream_impl_lite.h>

#include "absl/strings/escaping.h"
#include "api/modgate/config/v1/resources.pb.h"

namespace modgate::control_plane {
namespace {

std::string Deterministic(const google::protobuf::MessageLite& message) {
  std::string bytes;
  google::protobuf::io::StringOutputStream stream(&bytes);
  google::protobuf::io::CodedOutputStream coded(&stream);
  coded.SetSerializationDeterministic(true);
  message.SerializeToCodedStream(&coded);
  coded.Trim();
  return bytes;
}

void Add(TypeSnapshot& type, std::string_view type_url, std::string name,
         const google::protobuf::MessageLite& message) {
  Resource& resource = type.resources[std::move(name)];
  std::string bytes = Deterministic(message);
  resource.version = ContentVersion(bytes);
  resource.body.set_type_url(std::string(type_url));
  resource.body.set_value(std::move(bytes));
}

void Seal(TypeSnapshot& type) {
  std::string summary;
  for (const auto& [name, resource] : type.resources) {
    summary.append(name).append(1, '\0').append(resource.version).append(1, '\n');
  }
  type.version = ContentVersion(summary);
}

}  // namespace

bool IsKnownType(std::string_view type_url) {
  return type_url == kListenerType || type_url == kClusterType || type_url == kRouteTableType ||
         type_url == kSumDbType || type_url == kRuntimeType;
}

std::string ContentVersion(std::string_view bytes) {
  uint8_t digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size(), digest);
  return absl::BytesToHexString(absl::string_view(reinterpret_cast<const char*>(digest), 8));
}

const TypeSnapshot* Snapshot::find(std::string_view type_url) const {
  auto it = types.find(type_url);
  return it == types.end() ? nullptr : &it->second;
}

SnapshotConstPtr BuildSnapshot(const config::v1::Bootstrap& config, uint64_t generation,
                               std::chrono::steady_clock::time_point changed_at) {
  auto snapshot = std::make_shared<Snapshot>();
  snapshot->generation = generation;
  snapshot->changed_at = changed_at;
  TypeSnapshot& listeners = snapshot->types[std::string(kListenerType)];
  for (const auto& listener : config.listeners())
    Add(listeners, kListenerType, listener.name(), listener);
  TypeSnapshot& clusters = snapshot->types[std::string(kClusterType)];
  for (const auto& cluster : config.clusters())
    Add(clusters, kClusterType, cluster.name(), cluster);
  TypeSnapshot& sumdbs = snapshot->types[std::string(kSumDbType)];
  for (const auto& sumdb : config.sumdbs()) Add(sumdbs, kSumDbType, sumdb.name(), sumdb);
  // The route list is ordered (first match wins): one resource.
  TypeSnapshot& routes = snapshot->types[std::string(kRouteTableType)];
  if (config.routes_size() > 0) {
    config::v1::RouteTable table;
    *table.mutable_routes() = config.routes();
    Add(routes, kRouteTableType, std::string(kRouteTableName), table);
  }
  TypeSnapshot& runtime = snapshot->types[std::string(kRuntimeType)];
  if (!config.runtime().empty()) {
    config::v1::Runtime values;
    *values.mutable_values() = config.runtime();
    Add(runtime, kRuntimeType, std::string(kRuntimeName), values);
  }
  std::string summary;
  for (auto& [type_url, type] : snapshot->types) {
    Seal(type);
    summary.append(type_url).append(1, '\0').append(type.version).append(1, '\n');
  }
  snapshot->version = ContentVersion(summary);
  return snapshot;
}

}  // namespace modgate::control_plane
