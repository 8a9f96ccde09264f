#include "source/router/route_table.h"

#include <algorithm>

#include "absl/strings/str_split.h"
#include "source/common/http/identity.h"

namespace modgate::router {

uint32_t kindBit(goproxy::RequestKind kind) {
  switch (kind) {
    case goproxy::RequestKind::kList:
      return kKindList;
    case goproxy::RequestKind::kInfo:
      return kKindInfo;
    case goproxy::RequestKind::kMod:
      return kKindMod;
    case goproxy::RequestKind::kZip:
      return kKindZip;
    case goproxy::RequestKind::kLatest:
      return kKindLatest;
    default:
      return kKindSumdb;
  }
}

RouteTable::RouteTable(std::vector<Route> routes, std::vector<SumDb> sumdbs,
                       std::shared_ptr<canary::OutcomeRecorder> total_outcomes)
    : routes_(std::move(routes)),
      sumdbs_(std::move(sumdbs)),
      total_outcomes_(std::move(total_outcomes)) {}

namespace {

bool prefixMatches(std::string_view prefix, std::string_view path) {
  if (path.size() < prefix.size() || path.substr(0, prefix.size()) != prefix) return false;
  return path.size() == prefix.size() || prefix.empty() || prefix.back() == '/' ||
         path[prefix.size()] == '/';
}

bool routeMatches(const RouteMatch& match, const goproxy::Request& request,
                  const http::RequestHeaders& headers, const std::vector<std::string>& principals) {
  if ((match.kinds & kindBit(request.kind)) == 0) return false;
  const std::string& module = request.module;
  if (!match.exact.empty() && module != match.exact) return false;
  if (!match.prefix.empty() && !prefixMatches(match.prefix, module)) return false;
  if (!match.patterns.empty()) {
    bool any = false;
    for (const auto& pattern : match.patterns) {
      if (matchPrefixPatterns(pattern, module)) {
        any = true;
        break;
      }
    }
    if (!any) return false;
  }
  for (const auto& header : match.headers) {
    const std::string* value = headers.headers.get(header.name);
    bool matched = header.exact.has_value() ? value != nullptr && *value == *header.exact
                                            : (value != nullptr) == header.present;
    if (matched == header.invert) return false;
  }
  if (!match.principals.empty() &&
      std::none_of(match.principals.begin(), match.principals.end(),
                   [&](const std::string& p) { return http::principalMatches(p, principals); })) {
    return false;
  }
  return true;
}

}  // namespace

const Route* RouteTable::match(const goproxy::Request& request, const http::RequestHeaders& headers,
                               const std::vector<std::string>& principals) const {
  for (const auto& route : routes_) {
    if (routeMatches(route.match, request, headers, principals)) return &route;
  }
  return nullptr;
}

const SumDb* RouteTable::sumdb(std::string_view name) const {
  for (const auto& db : sumdbs_) {
    if (db.name == name) return &db;
  }
  return nullptr;
}

// path.Match from Go's standard library, for one path element at a time:
// '*' matches any run of non-'/' bytes, '?' one non-'/' byte, [...] classes.
bool globMatch(std::string_view pattern, std::string_view name) {
  size_t p = 0, n = 0, star_p = std::string_view::npos, star_n = 0;
  auto matchClass = [](std::string_view pattern, size_t& p, char c, bool& ok) {
    // pattern[p] == '['
    size_t i = p + 1;
    bool negate = false;
    if (i < pattern.size() && pattern[i] == '^') {
      negate = true;
      ++i;
    }
    bool matched = false;
    bool first = true;
    while (i < pattern.size() && (first || pattern[i] != ']')) {
      first = false;
      char lo = pattern[i];
      if (lo == '\\' && i + 1 < pattern.size()) lo = pattern[++i];
      char hi = lo;
      if (i + 2 < pattern.size() && pattern[i + 1] == '-' && pattern[i + 2] != ']') {
        hi = pattern[i + 2];
        if (hi == '\\' && i + 3 < pattern.size()) {
          hi = pattern[i + 3];
          ++i;
        }
        i += 2;
      }
      if (lo <= c && c <= hi) matched = true;
      ++i;
    }
    if (i >= pattern.size()) {
      ok = false;  // unterminated class: ErrBadPattern
      return false;
    }
    p = i + 1;
    return matched != negate;
  };
  for (;;) {
    if (p < pattern.size()) {
      char pc = pattern[p];
      if (pc == '*') {
        star_p = p++;
        star_n = n;
        continue;
      }
      if (n < name.size()) {
        const char c = name[n];
        if (pc == '?') {
          if (c != '/') {
            ++p;
            ++n;
            continue;
          }
        } else if (pc == '[') {
          if (c != '/') {
            bool ok = true;
            size_t q = p;
            if (matchClass(pattern, q, c, ok)) {
              p = q;
              ++n;
              continue;
            }
            if (!ok) return false;
          }
        } else {
          size_t advance = 1;
          if (pc == '\\' && p + 1 < pattern.size()) {
            pc = pattern[p + 1];
            advance = 2;
          }
          if (pc == c) {
            p += advance;
            ++n;
            continue;
          }
        }
      }
    } else if (n == name.size()) {
      return true;
    }
    // Backtrack: let the last '*' swallow one more non-'/' byte.
    if (star_p != std::string_view::npos && star_n < name.size() && name[star_n] != '/') {
      p = star_p + 1;
      n = ++star_n;
      continue;
    }
    return false;
  }
}

bool matchPrefixPatterns(std::string_view patterns, std::string_view path) {
  for (absl::string_view raw :
       absl::StrSplit(absl::string_view(patterns.data(), patterns.size()), ',')) {
    std::string_view pattern(raw.data(), raw.size());
    // Trim spaces and trailing slashes as Go does.
    while (!pattern.empty() && pattern.front() == ' ') pattern.remove_prefix(1);
    while (!pattern.empty() && (pattern.back() == ' ' || pattern.back() == '/')) {
      pattern.remove_suffix(1);
    }
    if (pattern.empty()) continue;
    // As many leading path elements of `path` as `pattern` has elements.
    size_t elements = 1;
    for (char c : pattern) elements += c == '/';
    size_t cut = 0;
    size_t seen = 0;
    for (; cut < path.size(); ++cut) {
      if (path[cut] == '/' && ++seen == elements) break;
    }
    if (seen + 1 < elements) continue;  // path has fewer elements
    if (globMatch(pattern, path.substr(0, cut))) return true;
  }
  return false;
}

}  // namespace modgate::router
