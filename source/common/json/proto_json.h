#pragma once

#include <string>

#include "google/protobuf/message.h"

namespace modgate::json {

// The one JSON encoder of the admin endpoint and the access log's schemaed
// bodies: protobuf's printer, with the proto field names (snake_case, as
// config files and tests spell them) and zero values printed, so that
// "canary_weight":0 is there to read rather than absent. Fields declared
// `optional` are printed only when set: that is how a body says "no value
// yet". uint64/int64 fields print as JSON strings (the proto3 mapping), so
// the admin protos use uint32 or double for numbers meant to be read.
std::string ToJson(const google::protobuf::Message& message);

// Indented for people, and as config files are written: zero values that
// were never set are omitted (for /config_dump, whose bootstrap would
// otherwise list every unused knob; its envelope marks the fields that must
// show even at zero `optional`).
std::string ToConfigJson(const google::protobuf::Message& message);

// Rounds to 6 significant digits, as a person reads a ratio or a latency:
// 0.012 rather than the 0.012000000000000002 that arithmetic produced.
double Round6(double value);

}  // namespace modgate::json
