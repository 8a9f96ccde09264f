#pragma once

#include <string>

#include "google/protobuf/descriptor.h"
#include "source/config/error_list.h"
#include "yaml-cpp/yaml.h"

namespace modgate::config {

// Converts a document parsed by yaml-cpp (YAML, or JSON, which yaml-cpp also
// reads) into protobuf JSON text for a message of type `descriptor`.
//
// The conversion walks the schema alongside the tree, because
// JsonStringToMessage reports errors without a usable field path or line.
// Every problem is added to `errors` as "line N: a.b[i].c: message":
// unknown fields (with a did-you-mean hint), duplicate fields, two members
// of one oneof, and values of the wrong kind (a list for a string, "abc"
// for an integer, an unknown enum name, a malformed duration).
//
// Knowing the schema also lets it be kinder than a type-blind conversion:
// scalars are emitted as the field's type wants (`name: 123` is the string
// "123"), enum names match case-insensitively with '-' standing for '_'
// (plus any (modgate.config.v1.enum_alias) spelling, e.g. "5xx"), and
// durations accept Go syntax ("1m30s"). Fields of type Struct/Value/Any fall back to a blind
// conversion: plain scalars that look like numbers, booleans or null become
// those, quoted scalars stay strings.
//
// The returned text is only meaningful when `errors` is still empty.
std::string YamlToProtoJson(const YAML::Node& node, const google::protobuf::Descriptor& descriptor,
                            ErrorList& errors);

}  // namespace modgate::config
