#pragma once

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace modgate::config {

// The base URL of an upstream GOPROXY server or checksum database.
struct UpstreamUrl {
  // "http" or "https" (lower case).
  std::string scheme;
  // Hostname or IP literal; IPv6 without brackets.
  std::string host;
  // Explicit port, else 80 for http and 443 for https.
  uint16_t port = 0;
  // "" or a path starting with '/' without trailing '/', e.g. "/go".
  std::string path_prefix;
};

// Parses "http(s)://host[:port][/path]". Rejects other schemes, a missing
// host, userinfo ("user:pass@": credentials do not belong in URLs that end
// up in logs and /config_dump), queries and fragments (a GOPROXY base URL
// is extended with paths, which a query would break).
absl::StatusOr<UpstreamUrl> ParseUpstreamUrl(absl::string_view url);

// A cluster endpoint: what ParseUpstreamUrl accepts, or "file:///DIR", a
// GOPROXY file tree on local disk (scheme "file", no host or port, the
// absolute directory in path_prefix; no "." or ".." segments).
absl::StatusOr<UpstreamUrl> ParseEndpointUrl(absl::string_view url);

}  // namespace modgate::config
