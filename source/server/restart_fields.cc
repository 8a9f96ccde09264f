#include "source/server/restart_fields.h"

#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "google/protobuf/descriptor.h"
#include "google/protobuf/duration.pb.h"
#include "google/protobuf/util/message_differencer.h"

namespace modgate::server {
namespace {

using google::protobuf::FieldDescriptor;
using google::protobuf::Message;

// A field's value as an operator reads it in a config file.
std::string valueText(const Message& message, const FieldDescriptor* field) {
  const auto* reflection = message.GetReflection();
  if (field->is_repeated()) return absl::StrCat(reflection->FieldSize(message, field), " entries");
  if (field->cpp_type() == FieldDescriptor::CPPTYPE_MESSAGE) {
    if (!reflection->HasField(message, field)) return "unset";
    const Message& value = reflection->GetMessage(message, field);
    if (value.GetDescriptor()->full_name() == "google.protobuf.Duration") {
      const auto& d = static_cast<const google::protobuf::Duration&>(value);
      if (d.nanos() == 0) return absl::StrCat(d.seconds(), "s");
      return absl::StrCat(d.seconds() * 1000 + d.nanos() / 1000000, "ms");
    }
    const FieldDescriptor* inner = value.GetDescriptor()->FindFieldByName("value");
    if (inner != nullptr) return valueText(value, inner);  // a wrapper
    return value.ShortDebugString();
  }
  switch (field->cpp_type()) {
    case FieldDescriptor::CPPTYPE_STRING:
      return absl::StrCat("\"", reflection->GetString(message, field), "\"");
    case FieldDescriptor::CPPTYPE_UINT32:
      return absl::StrCat(reflection->GetUInt32(message, field));
    case FieldDescriptor::CPPTYPE_UINT64:
      return absl::StrCat(reflection->GetUInt64(message, field));
    case FieldDescriptor::CPPTYPE_INT32:
      return absl::StrCat(reflection->GetInt32(message, field));
    case FieldDescriptor::CPPTYPE_INT64:
      return absl::StrCat(reflection->GetInt64(message, field));
    case FieldDescriptor::CPPTYPE_BOOL:
      return reflection->GetBool(message, field) ? "true" : "false";
    default:
      return "(changed)";
  }
}

bool sameField(const Message& a, const Message& b, const FieldDescriptor* field) {
  google::protobuf::util::MessageDifferencer differencer;
  std::vector<const FieldDescriptor*> only = {field};
  return differencer.CompareWithFields(a, b, only, only);
}

// Appends "prefix.field: old -> new: requires a restart" for each listed
// field of `a`/`b` (every field when `names` is empty) that differs.
void compare(const Message& a, const Message& b, const std::string& prefix,
             const std::vector<std::string>& names, std::vector<std::string>& problems) {
  const auto* descriptor = a.GetDescriptor();
  std::vector<const FieldDescriptor*> fields;
  if (names.empty()) {
    for (int i = 0; i < descriptor->field_count(); ++i) fields.push_back(descriptor->field(i));
  } else {
    for (const auto& name : names) fields.push_back(descriptor->FindFieldByName(name));
  }
  for (const FieldDescriptor* field : fields) {
    if (field == nullptr || sameField(a, b, field)) continue;
    problems.push_back(absl::StrCat(prefix, field->name(), ": ", valueText(a, field), " -> ",
                                    valueText(b, field), ": requires a restart"));
  }
}

}  // namespace

absl::Status checkRestartOnlyFields(const config::v1::Bootstrap& running,
                                    const config::v1::Bootstrap& next) {
  std::vector<std::string> problems;
  compare(running, next, "", {"concurrency"}, problems);
  compare(running.admin(), next.admin(), "admin.", {}, problems);
  compare(running.cache(), next.cache(), "cache.",
          {"dir", "max_bytes", "hot_object_max_bytes", "hot_cache_max_bytes"}, problems);
  compare(running.limits(), next.limits(), "limits.", {}, problems);
  compare(running, next, "", {"node", "control_plane"}, problems);
  if (problems.empty()) return absl::OkStatus();
  return absl::InvalidArgumentError(absl::StrJoin(problems, "\n"));
}

}  // namespace modgate::server
