#include "source/config/yaml_to_json.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <map>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/string_view.h"
#include "google/protobuf/descriptor.pb.h"
#include "google/protobuf/message.h"
#include "source/config/duration_text.h"

namespace modgate::config {
namespace {

using google::protobuf::Descriptor;
using google::protobuf::EnumValueDescriptor;
using google::protobuf::FieldDescriptor;

// A JSON string literal, for the JSON text handed to protobuf's parser.
std::string JsonQuote(absl::string_view text) {
  std::string out = "\"";
  for (char c : text) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          out += absl::StrFormat("\\u%04x", static_cast<unsigned char>(c));
        } else {
          out += c;
        }
    }
  }
  out += "\"";
  return out;
}

absl::string_view KindName(const YAML::Node& node) {
  switch (node.Type()) {
    case YAML::NodeType::Map:
      return "a mapping";
    case YAML::NodeType::Sequence:
      return "a list";
    case YAML::NodeType::Scalar:
      return "a scalar";
    case YAML::NodeType::Null:
      return "null";
    default:
      return "nothing";
  }
}

// yaml-cpp tags plain scalars "?" and quoted ones "!".
bool IsQuoted(const YAML::Node& node) { return node.Tag() == "!"; }

int LineOf(const YAML::Node& node, int fallback) {
  // yaml-cpp places an empty (null) node at the next token, which may be on
  // a later line or past the end; the parent's line is the better guess.
  if (node.IsNull()) return fallback;
  int line = node.Mark().line;
  return line >= 0 ? line + 1 : fallback;
}

std::string FieldPath(const std::string& parent, absl::string_view name) {
  return parent.empty() ? std::string(name) : absl::StrCat(parent, ".", name);
}

size_t EditDistance(absl::string_view a, absl::string_view b) {
  std::vector<size_t> row(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    size_t diagonal = row[0];
    row[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      size_t above = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] != b[j - 1] ? 1 : 0)});
      diagonal = above;
    }
  }
  return row[b.size()];
}

std::string Suggestion(absl::string_view key, const Descriptor& descriptor) {
  std::string best;
  size_t best_distance = 3;  // Suggest only near misses (typos).
  for (int i = 0; i < descriptor.field_count(); ++i) {
    const std::string& name = descriptor.field(i)->name();
    size_t distance = EditDistance(absl::AsciiStrToLower(key), name);
    if (distance < best_distance && distance < name.size()) {
      best_distance = distance;
      best = name;
    }
  }
  return best.empty() ? "" : absl::StrCat(" (did you mean \"", best, "\"?)");
}

bool LooksLikeJsonNumber(absl::string_view s) {
  size_t i = 0;
  if (i < s.size() && s[i] == '-') ++i;
  if (i >= s.size() || !absl::ascii_isdigit(s[i])) return false;
  if (s[i] == '0' && i + 1 < s.size() && absl::ascii_isdigit(s[i + 1])) return false;
  while (i < s.size() && absl::ascii_isdigit(s[i])) ++i;
  if (i < s.size() && s[i] == '.') {
    ++i;
    if (i >= s.size() || !absl::ascii_isdigit(s[i])) return false;
    while (i < s.size() && absl::ascii_isdigit(s[i])) ++i;
  }
  if (i < s.size() && (s[i] == 'e' || s[i] == 'E')) {
    ++i;
    if (i < s.size() && (s[i] == '+' || s[i] == '-')) ++i;
    if (i >= s.size() || !absl::ascii_isdigit(s[i])) return false;
    while (i < s.size() && absl::ascii_isdigit(s[i])) ++i;
  }
  return i == s.size();
}

// Enum names match case-insensitively and with '-' for '_', so that
// Envoy-style spellings such as "gateway-error" are accepted.
std::string EnumSpelling(absl::string_view name) {
  std::string out = absl::AsciiStrToLower(name);
  std::replace(out.begin(), out.end(), '-', '_');
  return out;
}

// The value's (modgate.config.v1.enum_alias) option, or "". Looked up by
// name through reflection so that this converter stays independent of the
// config API's generated code.
std::string EnumAlias(const EnumValueDescriptor& value) {
  const google::protobuf::FieldDescriptor* option =
      value.file()->pool()->FindExtensionByName("modgate.config.v1.enum_alias");
  if (option == nullptr) return "";
  const google::protobuf::Message& options = value.options();
  const google::protobuf::Reflection& reflection = *options.GetReflection();
  if (!reflection.HasField(options, option)) return "";
  return reflection.GetString(options, option);
}

class Converter {
 public:
  explicit Converter(ErrorList& errors) : errors_(errors) {}

  void Message(const YAML::Node& node, const Descriptor& descriptor, const std::string& path,
               int line, std::string& out) {
    if (node.IsNull()) {
      out += "null";
      return;
    }
    if (!node.IsMap()) {
      Error(path, absl::StrCat("expected a mapping (object), got ", KindName(node)),
            LineOf(node, line));
      out += "null";
      return;
    }
    // Field number -> line first seen, to report duplicates ("url" twice, or
    // "log_level" and its JSON name "logLevel").
    std::map<int, int> seen;
    // Oneof -> the member already set.
    std::map<const google::protobuf::OneofDescriptor*, const FieldDescriptor*> oneofs;
    out += "{";
    bool first = true;
    for (const auto& entry : node) {
      const YAML::Node& key = entry.first;
      const YAML::Node& value = entry.second;
      int key_line = LineOf(key, line);
      if (!key.IsScalar()) {
        Error(path, absl::StrCat("mapping keys must be strings, got ", KindName(key)), key_line);
        continue;
      }
      const std::string& name = key.Scalar();
      const FieldDescriptor* field = descriptor.FindFieldByName(name);
      for (int i = 0; field == nullptr && i < descriptor.field_count(); ++i) {
        // lowerCamelCase, as protobuf's JSON parser also accepts.
        if (descriptor.field(i)->json_name() == name) field = descriptor.field(i);
      }
      if (field == nullptr) {
        Error(FieldPath(path, name), absl::StrCat("unknown field", Suggestion(name, descriptor)),
              key_line);
        continue;
      }
      std::string field_path = FieldPath(path, field->name());
      auto [it, inserted] = seen.emplace(field->number(), key_line);
      if (!inserted) {
        Error(field_path, absl::StrCat("duplicate field (first set on line ", it->second, ")"),
              key_line);
        continue;
      }
      if (const auto* oneof = field->real_containing_oneof(); oneof != nullptr) {
        auto [other, fresh] = oneofs.emplace(oneof, field);
        if (!fresh) {
          Error(field_path,
                absl::StrCat("conflicts with \"", other->second->name(), "\": only one of ",
                             OneofMembers(*oneof), " may be set"),
                key_line);
          continue;
        }
      }
      if (!first) out += ",";
      first = false;
      out += JsonQuote(field->name());
      out += ":";
      Field(value, *field, field_path, key_line, out);
    }
    out += "}";
  }

 private:
  static std::string OneofMembers(const google::protobuf::OneofDescriptor& oneof) {
    std::vector<std::string> names;
    for (int i = 0; i < oneof.field_count(); ++i) names.push_back(oneof.field(i)->name());
    return absl::StrJoin(names, ", ");
  }

  void Error(const std::string& path, absl::string_view message, int line) {
    errors_.Add(path, message, line);
  }

  void Field(const YAML::Node& node, const FieldDescriptor& field, const std::string& path,
             int line, std::string& out) {
    if (!field.is_repeated() || node.IsNull()) {
      Singular(node, field, path, line, out);
      return;
    }
    if (field.is_map()) {
      if (!node.IsMap()) {
        Error(path, absl::StrCat("expected a mapping (object), got ", KindName(node)),
              LineOf(node, line));
        out += "null";
        return;
      }
      const FieldDescriptor& value_field = *field.message_type()->map_value();
      out += "{";
      bool first = true;
      for (const auto& entry : node) {
        if (!entry.first.IsScalar()) {
          Error(path, "map keys must be scalars", LineOf(entry.first, line));
          continue;
        }
        if (!first) out += ",";
        first = false;
        out += JsonQuote(entry.first.Scalar());
        out += ":";
        Singular(entry.second, value_field,
                 absl::StrCat(path, "[", JsonQuote(entry.first.Scalar()), "]"),
                 LineOf(entry.first, line), out);
      }
      out += "}";
      return;
    }
    if (!node.IsSequence()) {
      Error(path, absl::StrCat("expected a list, got ", KindName(node)), LineOf(node, line));
      out += "null";
      return;
    }
    out += "[";
    for (size_t i = 0; i < node.size(); ++i) {
      const YAML::Node element = node[i];
      std::string element_path = absl::StrCat(path, "[", i, "]");
      int element_line = LineOf(element, line);
      if (i > 0) out += ",";
      if (element.IsNull()) {
        Error(element_path, "list elements must not be null", element_line);
        out += "null";
        continue;
      }
      Singular(element, field, element_path, element_line, out);
    }
    out += "]";
  }

  // Requires a scalar; reports the mismatch otherwise.
  bool ExpectScalar(const YAML::Node& node, absl::string_view expected, const std::string& path,
                    int line) {
    if (node.IsScalar()) return true;
    Error(path, absl::StrCat("expected ", expected, ", got ", KindName(node)), LineOf(node, line));
    return false;
  }

  void Singular(const YAML::Node& node, const FieldDescriptor& field, const std::string& path,
                int line, std::string& out) {
    line = LineOf(node, line);
    if (node.IsNull()) {
      // Protobuf's JSON mapping reads null as "unset".
      out += "null";
      return;
    }
    const std::string scalar = node.IsScalar() ? node.Scalar() : "";
    switch (field.cpp_type()) {
      case FieldDescriptor::CPPTYPE_MESSAGE:
        WellKnownOrMessage(node, field, path, line, out);
        return;
      case FieldDescriptor::CPPTYPE_STRING:
        if (!ExpectScalar(node, "a string", path, line)) break;
        out += JsonQuote(scalar);
        return;
      case FieldDescriptor::CPPTYPE_BOOL: {
        if (!ExpectScalar(node, "a boolean", path, line)) break;
        std::string lower = absl::AsciiStrToLower(scalar);
        if (lower != "true" && lower != "false") {
          Error(path, absl::StrCat("expected a boolean (true or false), got \"", scalar, "\""),
                line);
          break;
        }
        out += lower;
        return;
      }
      case FieldDescriptor::CPPTYPE_INT32:
      case FieldDescriptor::CPPTYPE_INT64: {
        bool is32 = field.cpp_type() == FieldDescriptor::CPPTYPE_INT32;
        absl::string_view what = is32 ? "a 32-bit integer" : "a 64-bit integer";
        if (!ExpectScalar(node, what, path, line)) break;
        int64_t value = 0;
        if (!absl::SimpleAtoi(scalar, &value) ||
            (is32 && (value < std::numeric_limits<int32_t>::min() ||
                      value > std::numeric_limits<int32_t>::max()))) {
          Error(path, absl::StrCat("expected ", what, ", got \"", scalar, "\""), line);
          break;
        }
        // 64-bit values as strings: JSON numbers lose precision past 2^53.
        out += is32 ? absl::StrCat(value) : absl::StrCat("\"", value, "\"");
        return;
      }
      case FieldDescriptor::CPPTYPE_UINT32:
      case FieldDescriptor::CPPTYPE_UINT64: {
        bool is32 = field.cpp_type() == FieldDescriptor::CPPTYPE_UINT32;
        absl::string_view what = is32 ? "an unsigned 32-bit integer" : "an unsigned 64-bit integer";
        if (!ExpectScalar(node, what, path, line)) break;
        uint64_t value = 0;
        if (absl::StartsWith(scalar, "-") || !absl::SimpleAtoi(scalar, &value) ||
            (is32 && value > std::numeric_limits<uint32_t>::max())) {
          Error(path, absl::StrCat("expected ", what, ", got \"", scalar, "\""), line);
          break;
        }
        out += is32 ? absl::StrCat(value) : absl::StrCat("\"", value, "\"");
        return;
      }
      case FieldDescriptor::CPPTYPE_FLOAT:
      case FieldDescriptor::CPPTYPE_DOUBLE: {
        if (!ExpectScalar(node, "a number", path, line)) break;
        double value = 0;
        if (!absl::SimpleAtod(scalar, &value)) {
          Error(path, absl::StrCat("expected a number, got \"", scalar, "\""), line);
          break;
        }
        if (std::isnan(value)) {
          out += "\"NaN\"";
        } else if (std::isinf(value)) {
          out += value > 0 ? "\"Infinity\"" : "\"-Infinity\"";
        } else {
          out += absl::StrFormat("%.17g", value);
        }
        return;
      }
      case FieldDescriptor::CPPTYPE_ENUM:
        Enum(node, *field.enum_type(), path, line, out);
        return;
    }
    out += "null";
  }

  void Enum(const YAML::Node& node, const google::protobuf::EnumDescriptor& type,
            const std::string& path, int line, std::string& out) {
    std::vector<std::string> names;
    for (int i = 0; i < type.value_count(); ++i) names.push_back(type.value(i)->name());
    std::string expected = absl::StrCat("one of ", absl::StrJoin(names, ", "));
    if (!ExpectScalar(node, expected, path, line)) {
      out += "null";
      return;
    }
    const std::string& scalar = node.Scalar();
    const EnumValueDescriptor* value = type.FindValueByName(scalar);
    const std::string spelled = EnumSpelling(scalar);
    for (int i = 0; value == nullptr && i < type.value_count(); ++i) {
      if (EnumSpelling(type.value(i)->name()) == spelled) value = type.value(i);
    }
    for (int i = 0; value == nullptr && i < type.value_count(); ++i) {
      std::string alias = EnumAlias(*type.value(i));
      if (!alias.empty() && EnumSpelling(alias) == spelled) value = type.value(i);
    }
    int number = 0;
    if (value == nullptr && absl::SimpleAtoi(scalar, &number)) {
      value = type.FindValueByNumber(number);
    }
    if (value == nullptr) {
      Error(path, absl::StrCat("unknown value \"", scalar, "\" (expected ", expected, ")"), line);
      out += "null";
      return;
    }
    out += JsonQuote(value->name());
  }

  void WellKnownOrMessage(const YAML::Node& node, const FieldDescriptor& field,
                          const std::string& path, int line, std::string& out) {
    const Descriptor& type = *field.message_type();
    const std::string& name = type.full_name();
    if (name == "google.protobuf.Duration") {
      if (!ExpectScalar(node, "a duration such as \"5s\"", path, line)) {
        out += "null";
        return;
      }
      absl::StatusOr<std::string> json = DurationToProtoJson(node.Scalar());
      if (!json.ok()) {
        Error(path, json.status().message(), line);
        out += "null";
        return;
      }
      out += JsonQuote(*json);
      return;
    }
    if (absl::StartsWith(name, "google.protobuf.") && absl::EndsWith(name, "Value") &&
        type.field_count() == 1 && type.field(0)->name() == "value" &&
        name != "google.protobuf.Value") {
      // Wrappers (UInt32Value, BoolValue, ...) are written as the bare value.
      Singular(node, *type.field(0), path, line, out);
      return;
    }
    if (name == "google.protobuf.Timestamp" || name == "google.protobuf.FieldMask") {
      if (!ExpectScalar(node, "a string", path, line)) {
        out += "null";
        return;
      }
      out += JsonQuote(node.Scalar());
      return;
    }
    if (name == "google.protobuf.Struct" || name == "google.protobuf.Value" ||
        name == "google.protobuf.ListValue" || name == "google.protobuf.Any") {
      Blind(node, out);
      return;
    }
    Message(node, type, path, line, out);
  }

  // Schema-less conversion for free-form fields.
  void Blind(const YAML::Node& node, std::string& out) {
    if (node.IsMap()) {
      out += "{";
      bool first = true;
      for (const auto& entry : node) {
        if (!first) out += ",";
        first = false;
        out += JsonQuote(entry.first.IsScalar() ? entry.first.Scalar() : "");
        out += ":";
        Blind(entry.second, out);
      }
      out += "}";
    } else if (node.IsSequence()) {
      out += "[";
      for (size_t i = 0; i < node.size(); ++i) {
        if (i > 0) out += ",";
        Blind(node[i], out);
      }
      out += "]";
    } else if (node.IsScalar() && !IsQuoted(node)) {
      const std::string& s = node.Scalar();
      if (s == "true" || s == "false") {
        out += s;
      } else if (s == "null" || s == "~" || s.empty()) {
        out += "null";
      } else if (LooksLikeJsonNumber(s)) {
        out += s;
      } else {
        out += JsonQuote(s);
      }
    } else if (node.IsScalar()) {
      out += JsonQuote(node.Scalar());
    } else {
      out += "null";
    }
  }

  ErrorList& errors_;
};

}  // namespace

std::string YamlToProtoJson(const YAML::Node& node, const google::protobuf::Descriptor& descriptor,
                            ErrorList& errors) {
  std::string out;
  // An empty document is an empty message.
  if (!node.IsDefined() || node.IsNull()) return "{}";
  Converter(errors).Message(node, descriptor, "", 1, out);
  return out;
}

}  // namespace modgate::config
