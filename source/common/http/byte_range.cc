#include "source/common/http/byte_range.h"

#include <limits>

namespace modgate::http {
namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// Digits only, no sign, no overflow.
bool parseNumber(std::string_view text, uint64_t& out) {
  if (text.empty() || text.size() > 19) return false;
  out = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return false;
    out = out * 10 + static_cast<uint64_t>(c - '0');
  }
  return true;
}

bool caseEqual(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if ((a[i] | 0x20) != (b[i] | 0x20)) return false;
  }
  return true;
}

}  // namespace

ByteRange parseRange(std::string_view header, uint64_t size) {
  ByteRange ignore;
  header = trim(header);
  size_t eq = header.find('=');
  if (eq == std::string_view::npos || !caseEqual(trim(header.substr(0, eq)), "bytes")) {
    return ignore;
  }
  std::string_view spec = trim(header.substr(eq + 1));
  if (spec.find(',') != std::string_view::npos) return ignore;
  size_t dash = spec.find('-');
  if (dash == std::string_view::npos) return ignore;
  std::string_view first_text = trim(spec.substr(0, dash));
  std::string_view last_text = trim(spec.substr(dash + 1));
  ByteRange range;
  if (first_text.empty()) {
    // bytes=-N: the last N bytes.
    uint64_t suffix;
    if (!parseNumber(last_text, suffix)) return ignore;
    if (suffix == 0 || size == 0) {
      range.kind = ByteRange::Kind::kUnsatisfiable;
      return range;
    }
    range.kind = ByteRange::Kind::kSatisfiable;
    range.length = suffix < size ? suffix : size;
    range.first = size - range.length;
    return range;
  }
  uint64_t first, last = std::numeric_limits<uint64_t>::max();
  if (!parseNumber(first_text, first)) return ignore;
  if (!last_text.empty() && (!parseNumber(last_text, last) || last < first)) return ignore;
  if (first >= size) {
    range.kind = ByteRange::Kind::kUnsatisfiable;
    return range;
  }
  if (last >= size) last = size - 1;
  range.kind = ByteRange::Kind::kSatisfiable;
  range.first = first;
  range.length = last - first + 1;
  return range;
}

}  // namespace modgate::http
