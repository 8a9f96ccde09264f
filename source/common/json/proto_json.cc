#include "source/common/json/proto_json.h"

#include <cmath>
#include <cstdio>
#include <cstdlib>

#include "google/protobuf/util/json_util.h"

namespace modgate::json {
namespace {

std::string print(const google::protobuf::Message& message, bool config_style) {
  google::protobuf::util::JsonPrintOptions options;
  options.add_whitespace = config_style;
  options.preserve_proto_field_names = true;
  options.always_print_primitive_fields = !config_style;
  std::string out;
  // Printing a valid, initialized message cannot fail.
  (void)google::protobuf::util::MessageToJsonString(message, &out, options);
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
