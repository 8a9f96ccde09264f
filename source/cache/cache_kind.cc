#include "source/cache/cache_kind.h"

namespace modgate::cache {

CacheKind KindOfKey(std::string_view key) {
  if (key.starts_with("sumdb/")) return CacheKind::kSumdb;
  if (key.ends_with("/@v/list")) return CacheKind::kList;
  if (key.ends_with("/@latest")) return CacheKind::kLatest;
  if (key.find("/@v/") == std::string_view::npos) return CacheKind::kOther;
  if (key.ends_with(".info")) return CacheKind::kInfo;
  if (key.ends_with(".mod")) return CacheKind::kMod;
  if (key.ends_with(".zip")) return CacheKind::kZip;
  return CacheKind::kOther;
}

std::string_view ModuleOfKey(std::string_view key) {
  if (key.starts_with("sumdb/")) return {};
  // A module path has no '@', so the first "/@" ends it.
  const size_t at = key.find("/@");
  if (at == std::string_view::npos || at == 0) return {};
  return key.substr(0, at);
}

}  // namespace modgate::cache
