#include "source/config/config_dump.h"

#include <vector>

#include "api/modgate/config/v1/options.pb.h"
#include "google/protobuf/descriptor.h"
#include "google/protobuf/util/json_util.h"

namespace modgate::config {

using google::protobuf::FieldDescriptor;
using google::protobuf::Reflection;

void RedactSensitiveFields(google::protobuf::Message& message) {
  const Reflection& reflection = *message.GetReflection();
  std::vector<const FieldDescriptor*> fields;
  reflection.ListFields(message, &fields);
  for (const FieldDescriptor* field : fields) {
    if (field->options().GetExtension(v1::sensitive)) {
      if (field->cpp_type() != FieldDescriptor::CPPTYPE_STRING) {
        reflection.ClearField(&message, field);
      } else if (field->is_repeated()) {
        for (int i = 0; i < reflection.FieldSize(message, field); ++i) {
          reflection.SetRepeatedString(&message, field, i, std::string(kRedacted));
        }
      } else {
        reflection.SetString(&message, field, std::string(kRedacted));
      }
      continue;
    }
    if (field->cpp_type() != FieldDescriptor::CPPTYPE_MESSAGE) continue;
    if (field->is_repeated()) {
      for (int i = 0; i < reflection.FieldSize(message, field); ++i) {
        RedactSensitiveFields(*reflection.MutableRepeatedMessage(&message, field, i));
      }
    } else {
      RedactSensitiveFields(*reflection.MutableMessage(&message, field));
    }
  }
}

std::string DumpJson(const v1::Bootstrap& bootstrap) {
  v1::Bootstrap redacted = bootstrap;
  RedactSensitiveFields(redacted);
  google::protobuf::util::JsonPrintOptions options;
  options.add_whitespace = true;
  options.preserve_proto_field_names = true;
  std::string json;
  // Printing a valid message cannot fail.
  (void)google::protobuf::util::MessageToJsonString(redacted, &json, options);
  return json;
}

}  // namespace modgate::config
