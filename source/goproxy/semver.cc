#include "source/goproxy/semver.h"

#include <optional>

#include "source/goproxy/string_util.h"

namespace modgate::goproxy::semver {
namespace {

struct Parsed {
  std::string_view major;
  std::string_view minor;
  std::string_view patch;
  std::string_view short_suffix;  // ".0.0" or ".0" to fill in, or "".
  std::string_view prerelease;
  std::string_view build;
};

// Consumes a decimal integer without extra leading zeros from the front of
// `*v`.
bool ParseInt(std::string_view* v, std::string_view* out) {
  if (v->empty() || (*v)[0] < '0' || (*v)[0] > '9') return false;
  size_t i = 1;
  while (i < v->size() && (*v)[i] >= '0' && (*v)[i] <= '9') ++i;
  if ((*v)[0] == '0' && i != 1) return false;
  *out = v->substr(0, i);
  v->remove_prefix(i);
  return true;
}

bool IsIdentChar(char c) {
  return ('A' <= c && c <= 'Z') || ('a' <= c && c <= 'z') || ('0' <= c && c <= '9') || c == '-';
}

// A numeric identifier with a leading zero.
bool IsBadNum(std::string_view v) {
  size_t i = 0;
  while (i < v.size() && v[i] >= '0' && v[i] <= '9') ++i;
  return i == v.size() && i > 1 && v[0] == '0';
}

bool IsNum(std::string_view v) {
  for (char c : v) {
    if (c < '0' || c > '9') return false;
  }
  return true;
}

bool ParsePrerelease(std::string_view* v, std::string_view* out) {
  if (v->empty() || (*v)[0] != '-') return false;
  size_t i = 1;
  size_t start = 1;
  while (i < v->size() && (*v)[i] != '+') {
    const char c = (*v)[i];
    if (!IsIdentChar(c) && c != '.') return false;
    if (c == '.') {
      if (start == i || IsBadNum(v->substr(start, i - start))) return false;
      start = i + 1;
    }
    ++i;
  }
  if (start == i || IsBadNum(v->substr(start, i - start))) return false;
  *out = v->substr(0, i);
  v->remove_prefix(i);
  return true;
}

bool ParseBuild(std::string_view* v, std::string_view* out) {
  if (v->empty() || (*v)[0] != '+') return false;
  size_t i = 1;
  size_t start = 1;
  while (i < v->size()) {
    const char c = (*v)[i];
    if (!IsIdentChar(c) && c != '.') return false;
    if (c == '.') {
      if (start == i) return false;
      start = i + 1;
    }
    ++i;
  }
  if (start == i) return false;
  *out = v->substr(0, i);
  v->remove_prefix(i);
  return true;
}

std::optional<Parsed> Parse(std::string_view v) {
  if (v.empty() || v[0] != 'v') return std::nullopt;
  v.remove_prefix(1);
  Parsed p;
  if (!ParseInt(&v, &p.major)) return std::nullopt;
  if (v.empty()) {
    p.minor = "0";
    p.patch = "0";
    p.short_suffix = ".0.0";
    return p;
  }
  if (v[0] != '.') return std::nullopt;
  v.remove_prefix(1);
  if (!ParseInt(&v, &p.minor)) return std::nullopt;
  if (v.empty()) {
    p.patch = "0";
    p.short_suffix = ".0";
    return p;
  }
  if (v[0] != '.') return std::nullopt;
  v.remove_prefix(1);
  if (!ParseInt(&v, &p.patch)) return std::nullopt;
  if (!v.empty() && v[0] == '-' && !ParsePrerelease(&v, &p.prerelease)) return std::nullopt;
  if (!v.empty() && v[0] == '+' && !ParseBuild(&v, &p.build)) return std::nullopt;
  if (!v.empty()) return std::nullopt;
  return p;
}

int CompareInt(std::string_view x, std::string_view y) {
  if (x == y) return 0;
  if (x.size() != y.size()) return x.size() < y.size() ? -1 : +1;
  return x < y ? -1 : +1;
}

std::string_view NextIdent(std::string_view* x) {
  size_t i = 0;
  while (i < x->size() && (*x)[i] != '.') ++i;
  std::string_view ident = x->substr(0, i);
  x->remove_prefix(i);
  return ident;
}

int ComparePrerelease(std::string_view x, std::string_view y) {
  // A prerelease sorts before the release; identifiers compare left to right,
  // numeric ones numerically and below alphanumeric ones; a longer list of
  // otherwise equal identifiers sorts later (semver.org, item 11).
  if (x == y) return 0;
  if (x.empty()) return +1;
  if (y.empty()) return -1;
  while (!x.empty() && !y.empty()) {
    x.remove_prefix(1);  // skip - or .
    y.remove_prefix(1);
    const std::string_view dx = NextIdent(&x);
    const std::string_view dy = NextIdent(&y);
    if (dx != dy) {
      const bool ix = IsNum(dx);
      const bool iy = IsNum(dy);
      if (ix != iy) return ix ? -1 : +1;
      if (ix && dx.size() != dy.size()) return dx.size() < dy.size() ? -1 : +1;
      return dx < dy ? -1 : +1;
    }
  }
  return x.empty() ? -1 : +1;
}

}  // namespace

bool IsValid(std::string_view v) { return Parse(v).has_value(); }

std::string Canonical(std::string_view v) {
  const std::optional<Parsed> p = Parse(v);
  if (!p) return "";
  if (!p->build.empty()) return std::string(v.substr(0, v.size() - p->build.size()));
  if (!p->short_suffix.empty()) return Concat({v, p->short_suffix});
  return std::string(v);
}

std::string Major(std::string_view v) {
  const std::optional<Parsed> p = Parse(v);
  if (!p) return "";
  return std::string(v.substr(0, 1 + p->major.size()));
}

std::string MajorMinor(std::string_view v) {
  const std::optional<Parsed> p = Parse(v);
  if (!p) return "";
  const size_t i = 1 + p->major.size();
  const size_t j = i + 1 + p->minor.size();
  if (j <= v.size() && v[i] == '.' && v.substr(i + 1, p->minor.size()) == p->minor) {
    return std::string(v.substr(0, j));
  }
  return Concat({v.substr(0, i), ".", p->minor});
}

std::string_view Prerelease(std::string_view v) {
  const std::optional<Parsed> p = Parse(v);
  return p ? p->prerelease : std::string_view();
}

std::string_view Build(std::string_view v) {
  const std::optional<Parsed> p = Parse(v);
  return p ? p->build : std::string_view();
}

int Compare(std::string_view a, std::string_view b) {
  const std::optional<Parsed> pa = Parse(a);
  const std::optional<Parsed> pb = Parse(b);
  if (!pa && !pb) return 0;
  if (!pa) return -1;
  if (!pb) return +1;
  if (int c = CompareInt(pa->major, pb->major); c != 0) return c;
  if (int c = CompareInt(pa->minor, pb->minor); c != 0) return c;
  if (int c = CompareInt(pa->patch, pb->patch); c != 0) return c;
  return ComparePrerelease(pa->prerelease, pb->prerelease);
}

}  // namespace modgate::goproxy::semver
