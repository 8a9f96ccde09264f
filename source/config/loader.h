#pragma once

#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "api/modgate/config/v1/bootstrap.pb.h"

namespace modgate::config {

// Parsing only: these check syntax and the schema (unknown fields, types,
// enum names) but neither apply defaults nor validate semantics; see
// ApplyDefaults() and Validate(), or BuildBootstrap() for all three.
//
// Errors are InvalidArgument with one problem per line, e.g.
//   line 14: clusters[2].endpoints[0].urll: unknown field (did you mean "url"?)

// Parses a YAML document (the protobuf JSON mapping written as YAML).
absl::StatusOr<v1::Bootstrap> LoadYaml(std::string_view text);

// Parses a JSON document (the protobuf JSON mapping).
absl::StatusOr<v1::Bootstrap> LoadJson(std::string_view text);

// Reads and parses a file: ".yaml"/".yml" as YAML, ".json" as JSON, anything
// else as JSON if it starts with '{' and YAML otherwise. Every error line is
// prefixed with "<path>: ". NotFound if the file cannot be read.
absl::StatusOr<v1::Bootstrap> LoadFile(const std::string& path);

// LoadFile() split in two, for callers that need the exact bytes they
// parsed (a config reload hashes them into its version): ReadConfigFile()
// reads (NotFound if it cannot), LoadText() parses as LoadFile() would the
// file `path` holding `text`.
absl::StatusOr<std::string> ReadConfigFile(const std::string& path);
absl::StatusOr<v1::Bootstrap> LoadText(const std::string& path, std::string_view text);

// Reads a YAML or JSON file into another config message (the control
// plane's own config), with the same errors as LoadFile().
absl::Status LoadMessageFile(const std::string& path, google::protobuf::Message& message);

}  // namespace modgate::config
