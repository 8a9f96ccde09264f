#include "source/common/http/conditional.h"

#include "source/common/http/http1/http_date.h"

namespace modgate::http {
namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

std::string_view opaqueTag(std::string_view tag) {
  if (tag.size() >= 2 && tag[0] == 'W' && tag[1] == '/') tag.remove_prefix(2);
  return tag;
}

// Weak comparison (RFC 9110 8.8.3.2): the opaque tags match, W/ ignored.
bool listMatches(std::string_view list, std::string_view etag) {
  if (trim(list) == "*") return true;
  if (etag.empty()) return false;
  const std::string_view ours = opaqueTag(etag);
  while (!list.empty()) {
    // Entity tags may not contain commas inside their quotes, so a comma
    // always separates list items.
    size_t comma = list.find(',');
    std::string_view item = trim(list.substr(0, comma));
    if (!item.empty() && opaqueTag(item) == ours) return true;
    if (comma == std::string_view::npos) break;
    list.remove_prefix(comma + 1);
  }
  return false;
}

}  // namespace

bool notModified(const HeaderMap& request, const Validators& validators) {
  if (const std::string* inm = request.get("if-none-match")) {
    return listMatches(*inm, validators.etag);
  }
  const std::string* ims = request.get("if-modified-since");
  if (ims == nullptr || validators.last_modified == 0) return false;
  time_t since;
  if (!http1::parseHttpDate(trim(*ims), since)) return false;
  return validators.last_modified <= static_cast<int64_t>(since);
}

bool ifRangeHolds(const HeaderMap& request, const Validators& validators) {
  const std::string* if_range = request.get("if-range");
  if (if_range == nullptr) return true;
  std::string_view value = trim(*if_range);
  if (!value.empty() && (value.front() == '"' || value.substr(0, 2) == "W/")) {
    // Strong comparison: a weak tag never matches.
    return !validators.etag.empty() && value == validators.etag;
  }
  time_t date;
  if (validators.last_modified == 0 || !http1::parseHttpDate(value, date)) return false;
  return static_cast<int64_t>(date) == validators.last_modified;
}

}  // namespace modgate::http
