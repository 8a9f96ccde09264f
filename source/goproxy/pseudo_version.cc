#include "source/goproxy/pseudo_version.h"

#include <algorithm>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "source/goproxy/go_quote.h"
#include "source/goproxy/semver.h"
#include "source/goproxy/string_util.h"

namespace modgate::goproxy {
namespace {

bool AllDigits(std::string_view s) {
  return std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

// Consumes one or more ASCII digits from the front of `*s`.
bool ConsumeDigits(std::string_view* s) {
  size_t i = 0;
  while (i < s->size() && (*s)[i] >= '0' && (*s)[i] <= '9') ++i;
  if (i == 0) return false;
  s->remove_prefix(i);
  return true;
}

bool ConsumeChar(std::string_view* s, char c) {
  if (s->empty() || (*s)[0] != c) return false;
  s->remove_prefix(1);
  return true;
}

// Matches Go's pseudoVersionRE,
//   ^v[0-9]+\.(0\.0-|\d+\.\d+-([^+]*\.)?0\.)\d{14}-[A-Za-z0-9]+(\+[0-9A-Za-z-]+(\.[0-9A-Za-z-]+)*)?$
// for a `v` already known to be valid semver (which makes the build suffix
// always match, and leaves no '+' before it).
bool MatchesPseudoPattern(std::string_view v) {
  v.remove_suffix(semver::Build(v).size());
  // The revision: letters and digits after the last '-'.
  const size_t dash = v.rfind('-');
  if (dash == std::string_view::npos) return false;
  const std::string_view rev = v.substr(dash + 1);
  if (rev.empty() || !std::all_of(rev.begin(), rev.end(), absl::ascii_isalnum)) return false;
  // The 14-digit timestamp right before it.
  std::string_view head = v.substr(0, dash);
  if (head.size() < 14 || !AllDigits(head.substr(head.size() - 14))) return false;
  head.remove_suffix(14);
  // What precedes the timestamp: "vX.0.0-" or "vX.Y.Z-" + ("" | "...." ) + "0.".
  if (!ConsumeChar(&head, 'v') || !ConsumeDigits(&head) || !ConsumeChar(&head, '.')) return false;
  if (head == "0.0-") return true;
  if (!ConsumeDigits(&head) || !ConsumeChar(&head, '.') || !ConsumeDigits(&head) ||
      !ConsumeChar(&head, '-')) {
    return false;
  }
  if (!head.ends_with("0.")) return false;
  head.remove_suffix(2);
  return head.empty() || head.back() == '.';
}

absl::Status InvalidPseudo(std::string_view v, std::string_view why) {
  return absl::InvalidArgumentError(Concat({"pseudo-version ", GoQuote(v), " invalid: ", why}));
}

struct PseudoParts {
  std::string_view base;  // "vX.0.0", "vX.Y.(Z+1)-0" or "vX.Y.Z-pre.0"
  std::string_view timestamp;
  std::string_view rev;
  std::string_view build;
};

// parsePseudoVersion.
absl::StatusOr<PseudoParts> ParsePseudo(std::string_view v) {
  if (!IsPseudoVersion(v)) return InvalidPseudo(v, "syntax error");
  PseudoParts p;
  p.build = semver::Build(v);
  std::string_view rest = v.substr(0, v.size() - p.build.size());
  const size_t j = rest.rfind('-');
  p.rev = rest.substr(j + 1);
  rest = rest.substr(0, j);
  const size_t i = rest.rfind('-');
  const size_t dot = rest.rfind('.');
  if (dot != std::string_view::npos && dot > i) {
    p.base = rest.substr(0, dot);
    p.timestamp = rest.substr(dot + 1);
  } else {
    p.base = rest.substr(0, i);
    p.timestamp = rest.substr(i + 1);
  }
  return p;
}

// decDecimal: the decimal string minus one, or "" if it is all zeros.
std::string DecDecimal(std::string_view decimal) {
  std::string digits(decimal);
  int i = static_cast<int>(digits.size()) - 1;
  for (; i >= 0 && digits[i] == '0'; --i) digits[i] = '9';
  if (i < 0) return "";
  if (i == 0 && digits[i] == '1' && digits.size() > 1) {
    digits.erase(0, 1);
  } else {
    --digits[i];
  }
  return digits;
}

int ParseFixed(std::string_view s) {
  int n = 0;
  for (char c : s) n = n * 10 + (c - '0');
  return n;
}

// Whether yyyymmddhhmmss (14 digits) is a time Go's time.Parse accepts with
// layout "20060102150405".
bool ValidTimestamp(std::string_view ts) {
  const int year = ParseFixed(ts.substr(0, 4));
  const int month = ParseFixed(ts.substr(4, 2));
  const int day = ParseFixed(ts.substr(6, 2));
  const int hour = ParseFixed(ts.substr(8, 2));
  const int minute = ParseFixed(ts.substr(10, 2));
  const int second = ParseFixed(ts.substr(12, 2));
  if (month < 1 || month > 12 || day < 1 || hour > 23 || minute > 59 || second > 59) return false;
  static constexpr int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  int days = kDays[month - 1];
  const bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
  if (month == 2 && leap) days = 29;
  return day <= days;
}

}  // namespace

bool IsPseudoVersion(std::string_view v) {
  return std::count(v.begin(), v.end(), '-') >= 2 && semver::IsValid(v) && MatchesPseudoPattern(v);
}

absl::StatusOr<std::string> PseudoVersionRev(std::string_view v) {
  absl::StatusOr<PseudoParts> p = ParsePseudo(v);
  if (!p.ok()) return p.status();
  return std::string(p->rev);
}

absl::StatusOr<std::string> PseudoVersionTimestamp(std::string_view v) {
  absl::StatusOr<PseudoParts> p = ParsePseudo(v);
  if (!p.ok()) return p.status();
  if (!ValidTimestamp(p->timestamp)) {
    return InvalidPseudo(v, Concat({"malformed time ", GoQuote(p->timestamp)}));
  }
  return std::string(p->timestamp);
}

absl::StatusOr<std::string> PseudoVersionBase(std::string_view v) {
  absl::StatusOr<PseudoParts> p = ParsePseudo(v);
  if (!p.ok()) return p.status();
  std::string_view base = p->base;
  const std::string_view pre = semver::Prerelease(base);
  if (pre.empty()) {
    // vX.0.0-yyyymmddhhmmss-abcdef123456 has no base; with build metadata
    // (even +incompatible) it is nonsensical.
    if (!p->build.empty()) {
      return InvalidPseudo(
          v, Concat({"lacks base version, but has build metadata ", GoQuote(p->build)}));
    }
    return std::string();
  }
  if (pre == "-0") {
    // vX.Y.(Z+1)-0.yyyymmddhhmmss-abcdef123456 -> vX.Y.Z
    base.remove_suffix(pre.size());
    const size_t i = base.rfind('.');
    const std::string patch = DecDecimal(base.substr(i + 1));
    if (patch.empty()) {
      return InvalidPseudo(v,
                           Concat({"version before ", base, " would have negative patch number"}));
    }
    return Concat({base.substr(0, i + 1), patch, p->build});
  }
  // vX.Y.Z-pre.0.yyyymmddhhmmss-abcdef123456 -> vX.Y.Z-pre
  base.remove_suffix(std::string_view(".0").size());
  return Concat({base, p->build});
}

}  // namespace modgate::goproxy
