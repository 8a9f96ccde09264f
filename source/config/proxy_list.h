#pragma once

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "api/modgate/config/v1/bootstrap.pb.h"

namespace modgate::config {

// One entry of a GOPROXY-syntax list.
struct ProxyListEntry {
  // The proxy's base URL, as written.
  std::string url;
  // The separator after this entry: NOT_FOUND for ',' (go on after 404/410),
  // ANY_ERROR for '|' (go on after any error); ON_UNSPECIFIED for the last.
  v1::FallbackStep::On on = v1::FallbackStep::ON_UNSPECIFIED;

  bool operator==(const ProxyListEntry&) const = default;
};

// Parses a GOPROXY list such as "https://a,https://b|https://c". Each entry
// must be an http(s) or file:/// URL (see ParseEndpointUrl). "direct" and "off" are
// rejected: modgate only talks to proxies and cannot fetch from version
// control. Empty entries are rejected as likely typos.
absl::StatusOr<std::vector<ProxyListEntry>> ParseProxyList(absl::string_view list);

// Replaces bootstrap's clusters and routes with one cluster per entry
// ("upstream0", "upstream1", ...) and one catch-all route "upstream": to the
// cluster directly for a single entry, else a fallback chain whose steps
// carry each entry's separator. Other settings (sumdbs, cache, ...) stay.
void ApplyProxyList(const std::vector<ProxyListEntry>& entries, v1::Bootstrap& bootstrap);

}  // namespace modgate::config
