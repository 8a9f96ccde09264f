#include "source/common/json/proto_json.h"

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <memory>

#include "google/protobuf/descriptor.h"
#include "google/protobuf/io/coded_stream.h"
#include "google/protobuf/io/zero_copy_stream_impl_lite.h"
#include "google/protobuf/util/json_util.h"
#include "google/protobuf/util/type_resolver.h"
#include "google/protobuf/util/type_resolver_util.h"

namespace modgate::json {
namespace {

std::string print(const google::protobuf::Message& message, bool config_style) {
  google::protobuf::util::JsonPrintOptions options;
  options.add_whitespace = config_style;
  options.preserve_proto_field_names = true;
  options.always_print_primitive_fields = !config_style;
  // MessageToJsonString prints map entries in the order of a plain binary
  // serialization, which is the hash map's: the same body would list its
  // keys differently from one request to the next. Serialized
  // deterministically (map keys sorted) and printed from that, it does not.
  std::string binary;
  {
    google::protobuf::io::StringOutputStream stream(&binary);
    google::protobuf::io::CodedOutputStream coded(&stream);
    coded.SetSerializationDeterministic(true);
    (void)message.SerializePartialToCodedStream(&coded);
  }
  constexpr char kTypeUrlPrefix[] = "type.googleapis.com";
  const google::protobuf::DescriptorPool* pool = message.GetDescriptor()->file()->pool();
  static google::protobuf::util::TypeResolver* const generated =
      google::protobuf::util::NewTypeResolverForDescriptorPool(
          kTypeUrlPrefix, google::protobuf::DescriptorPool::generated_pool());
  std::unique_ptr<google::protobuf::util::TypeResolver> other;
  google::protobuf::util::TypeResolver* resolver = generated;
  if (pool != google::protobuf::DescriptorPool::generated_pool()) {
    other.reset(google::protobuf::util::NewTypeResolverForDescriptorPool(kTypeUrlPrefix, pool));
    resolver = other.get();
  }
  std::string out;
  // Printing a valid, initialized message cannot fail.
  (void)google::protobuf::util::BinaryToJsonString(
      resolver, std::string(kTypeUrlPrefix) + "/" + message.GetDescriptor()->full_name(), binary,
      &out, options);
  return out;
}

}  // namespace

std::string ToJson(const google::protobuf::Message& message) { return print(message, false); }

std::string ToConfigJson(const google::protobuf::Message& message) { return print(message, true); }

double Round6(double value) {
  if (!std::isfinite(value)) return value;
  char buffer[32];
  std::snprintf(buffer, sizeof(buffer), "%.6g", value);
  return std::strtod(buffer, nullptr);
}

}  // namespace modgate::json
