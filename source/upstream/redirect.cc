#include "source/upstream/redirect.h"

#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "source/upstream/string_view_compat.h"

namespace modgate::upstream {
namespace {

// RFC 3986 5.2.4 on the path part only.
std::string removeDotSegments(std::string_view path) {
  std::vector<std::string_view> out;
  bool trailing_slash = false;
  size_t pos = 0;
  while (pos <= path.size()) {
    size_t slash = path.find('/', pos);
    std::string_view segment =
        path.substr(pos, slash == std::string_view::npos ? std::string_view::npos : slash - pos);
    const bool last = slash == std::string_view::npos;
    trailing_slash = false;
    if (segment == "..") {
      if (out.size() > 1) out.pop_back();
      trailing_slash = true;
    } else if (segment == ".") {
      trailing_slash = true;
    } else {
      out.push_back(segment);
    }
    if (last) break;
    pos = slash + 1;
  }
  std::string result;
  for (size_t i = 0; i < out.size(); ++i) {
    if (i > 0) result += '/';
    result.append(out[i].data(), out[i].size());
  }
  if (trailing_slash) result += '/';
  if (result.empty() || result.front() != '/') result.insert(result.begin(), '/');
  return result;
}

// Splits "path?query" and cleans the path.
std::string normalizeTarget(std::string_view target) {
  size_t query = target.find('?');
  std::string path = removeDotSegments(target.substr(0, query));
  if (query != std::string_view::npos) path.append(target.data() + query, target.size() - query);
  return path;
}

bool validTargetBytes(std::string_view text) {
  for (char c : text) {
    unsigned char u = static_cast<unsigned char>(c);
    if (u <= 0x20 || u == 0x7f) return false;
  }
  return true;
}

}  // namespace

bool isRedirectStatus(int status) {
  return status == 301 || status == 302 || status == 303 || status == 307 || status == 308;
}

absl::StatusOr<RedirectTarget> resolveRedirect(const Origin& origin, std::string_view target,
                                               std::string_view location) {
  std::string_view trimmed = location;
  while (!trimmed.empty() && (trimmed.front() == ' ' || trimmed.front() == '\t')) {
    trimmed.remove_prefix(1);
  }
  while (!trimmed.empty() && (trimmed.back() == ' ' || trimmed.back() == '\t')) {
    trimmed.remove_suffix(1);
  }
  size_t fragment = trimmed.find('#');
  if (fragment != std::string_view::npos) trimmed = trimmed.substr(0, fragment);
  if (trimmed.empty()) return absl::InvalidArgumentError("empty Location");
  if (!validTargetBytes(trimmed)) {
    return absl::InvalidArgumentError(absl::StrCat("bad Location: ", toAbsl(trimmed)));
  }

  RedirectTarget result;
  std::string_view rest;
  size_t scheme_end = trimmed.find("://");
  size_t first_delim = trimmed.find_first_of("/?");
  if (scheme_end != std::string_view::npos && scheme_end < first_delim) {
    // Absolute URL.
    size_t path_start = trimmed.find_first_of("/?", scheme_end + 3);
    std::string_view base = trimmed.substr(0, path_start);
    absl::StatusOr<Url> url = Url::parse(base);
    if (!url.ok()) return url.status();
    result.origin = Origin::fromUrl(*url);
    rest = path_start == std::string_view::npos ? std::string_view() : trimmed.substr(path_start);
    result.target =
        rest.empty() || rest.front() == '?' ? absl::StrCat("/", toAbsl(rest)) : std::string(rest);
    result.target = normalizeTarget(result.target);
    return result;
  }
  if (trimmed.substr(0, 2) == "//") {
    // Scheme-relative.
    return resolveRedirect(origin, target, absl::StrCat(origin.scheme, ":", toAbsl(trimmed)));
  }
  if (trimmed.find(':') != std::string_view::npos && trimmed.find(':') < first_delim) {
    return absl::InvalidArgumentError(
        absl::StrCat("unsupported Location scheme: ", toAbsl(trimmed)));
  }
  result.origin = origin;
  if (trimmed.front() == '/') {
    result.target = normalizeTarget(trimmed);
  } else if (trimmed.front() == '?') {
    std::string_view base_path = target.substr(0, target.find('?'));
    result.target = absl::StrCat(toAbsl(base_path), toAbsl(trimmed));
  } else {
    std::string_view base_path = target.substr(0, target.find('?'));
    size_t last_slash = base_path.rfind('/');
    std::string_view directory =
        last_slash == std::string_view::npos ? "/" : base_path.substr(0, last_slash + 1);
    result.target = normalizeTarget(absl::StrCat(toAbsl(directory), toAbsl(trimmed)));
  }
  return result;
}

}  // namespace modgate::upstream
