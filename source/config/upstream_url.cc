#include "source/config/upstream_url.h"

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "source/config/host_port.h"

namespace modgate::config {

absl::StatusOr<UpstreamUrl> ParseUpstreamUrl(absl::string_view url) {
  auto error = [url](absl::string_view why) {
    return absl::InvalidArgumentError(absl::StrCat("invalid URL \"", url, "\": ", why));
  };
  size_t scheme_end = url.find("://");
  if (scheme_end == absl::string_view::npos) {
    return error("expected an absolute http:// or https:// URL");
  }
  UpstreamUrl parsed;
  parsed.scheme = absl::AsciiStrToLower(url.substr(0, scheme_end));
  if (parsed.scheme != "http" && parsed.scheme != "https") {
    return error(absl::StrCat("unsupported scheme \"", url.substr(0, scheme_end),
                              "\" (expected http or https)"));
  }
  for (char c : url) {
    if (static_cast<unsigned char>(c) <= ' ' || c == 0x7f) {
      return error("contains whitespace or control characters");
    }
  }
  if (url.find('?') != absl::string_view::npos) return error("a query (?...) is not allowed");
  if (url.find('#') != absl::string_view::npos) return error("a fragment (#...) is not allowed");

  absl::string_view rest = url.substr(scheme_end + 3);
  size_t slash = rest.find('/');
  absl::string_view authority = rest.substr(0, slash);
  absl::string_view path = slash == absl::string_view::npos ? "" : rest.substr(slash);
  if (authority.find('@') != absl::string_view::npos) {
    return error("userinfo (user:password@) is not allowed");
  }
  if (authority.empty()) return error("missing host");

  absl::string_view host = authority;
  absl::string_view port;
  bool has_port = false;
  if (authority.front() == '[') {
    size_t close = authority.find(']');
    if (close == absl::string_view::npos) return error("missing ']' after IPv6 address");
    host = authority.substr(1, close - 1);
    absl::string_view after = authority.substr(close + 1);
    if (!after.empty()) {
      if (after.front() != ':') return error("unexpected text after ']'");
      port = after.substr(1);
      has_port = true;
    }
    if (host.find(':') == absl::string_view::npos || !IsValidHost(host)) {
      return error(absl::StrCat("bad IPv6 address \"", host, "\""));
    }
  } else {
    size_t colon = authority.find(':');
    if (colon != absl::string_view::npos) {
      host = authority.substr(0, colon);
      port = authority.substr(colon + 1);
      has_port = true;
    }
    if (host.empty()) return error("missing host");
    if (!IsValidHost(host)) return error(absl::StrCat("bad host \"", host, "\""));
  }
  parsed.host = std::string(host);
  if (has_port) {
    absl::StatusOr<uint16_t> p = ParsePort(port);
    if (!p.ok()) return error(p.status().message());
    parsed.port = *p;
  } else {
    parsed.port = parsed.scheme == "https" ? 443 : 80;
  }
  // "https://host/" and "https://host" name the same GOPROXY base.
  while (!path.empty() && path.back() == '/') path.remove_suffix(1);
  parsed.path_prefix = std::string(path);
  return parsed;
}

absl::StatusOr<UpstreamUrl> ParseEndpointUrl(absl::string_view url) {
  auto error = [url](absl::string_view why) {
    return absl::InvalidArgumentError(absl::StrCat("invalid URL \"", url, "\": ", why));
  };
  if (!absl::StartsWithIgnoreCase(url, "file:")) {
    // The same checks as any upstream URL, but an endpoint may also be a
    // file tree, and the error should say so.
    const size_t scheme_end = url.find("://");
    if (scheme_end == absl::string_view::npos) {
      return error("expected an absolute http://, https:// or file:/// URL");
    }
    const absl::string_view scheme = url.substr(0, scheme_end);
    if (!absl::EqualsIgnoreCase(scheme, "http") && !absl::EqualsIgnoreCase(scheme, "https")) {
      return error(
          absl::StrCat("unsupported scheme \"", scheme, "\" (expected http, https or file)"));
    }
    return ParseUpstreamUrl(url);
  }
  if (!absl::StartsWith(url.substr(5), "///")) {
    return error("expected file:///absolute/directory (no host)");
  }
  for (char c : url) {
    if (static_cast<unsigned char>(c) < ' ' || c == 0x7f) {
      return error("contains control characters");
    }
  }
  if (url.find_first_of("?#\\") != absl::string_view::npos) {
    return error("a query, fragment or backslash is not allowed");
  }
  absl::string_view path = url.substr(7);
  for (absl::string_view segment : absl::StrSplit(path.substr(1), '/')) {
    if (segment == "." || segment == "..") return error("\".\" and \"..\" are not allowed");
  }
  UpstreamUrl parsed;
  parsed.scheme = "file";
  while (path.size() > 1 && path.back() == '/') path.remove_suffix(1);
  parsed.path_prefix = path == "/" ? "" : std::string(path);
  return parsed;
}

}  // namespace modgate::config
