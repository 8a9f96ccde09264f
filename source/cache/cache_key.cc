#include "source/cache/cache_key.h"

#include <string>

namespace modgate::cache {
namespace {

// NAME_MAX on Linux file systems; PATH_MAX is 4096 and the cache directory
// needs some of it.
constexpr size_t kMaxSegment = 255;
constexpr size_t kMaxKey = 4000;

absl::Status Invalid(std::string_view key, std::string_view why) {
  return absl::InvalidArgumentError(
      absl::string_view("invalid cache key \"" + std::string(key) + "\": " + std::string(why)));
}

}  // namespace

absl::Status ValidateCacheKey(std::string_view key) {
  if (key.empty()) return Invalid(key, "empty");
  if (key.size() > kMaxKey) return Invalid(key.substr(0, 64), "too long");
  if (key.front() == '/') return Invalid(key, "leading slash");
  for (char c : key) {
    auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u == 0x7f) return Invalid(key, "control byte");
    if (c == '\\') return Invalid(key, "backslash");
  }
  size_t start = 0;
  while (start <= key.size()) {
    size_t end = key.find('/', start);
    if (end == std::string_view::npos) end = key.size();
    std::string_view segment = key.substr(start, end - start);
    if (segment.empty()) return Invalid(key, "empty path segment");
    if (segment == "." || segment == "..") return Invalid(key, "dot segment");
    if (segment.size() > kMaxSegment) return Invalid(key, "path segment too long");
    start = end + 1;
  }
  return absl::OkStatus();
}

}  // namespace modgate::cache
