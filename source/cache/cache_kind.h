#pragma once

#include <array>
#include <cstddef>
#include <string_view>

namespace modgate::cache {

// What a cache key holds, for per-kind accounting (metrics, GET /cache).
// The order and names match stats::RequestLatency::kKinds, so a kind's
// index means the same thing in the request histograms and in the cache.
enum class CacheKind : size_t { kList, kInfo, kMod, kZip, kLatest, kSumdb, kOther };
inline constexpr std::array<std::string_view, 7> kCacheKindNames = {
    "list", "info", "mod", "zip", "latest", "sumdb", "other"};
inline constexpr size_t kCacheKinds = kCacheKindNames.size();

// The kind of a key as goproxy/request.cc builds them ("sumdb/...",
// ".../@v/list", ".../@v/V.info", ".../@latest"); kOther for anything else.
CacheKind KindOfKey(std::string_view key);
inline size_t KindIndex(std::string_view key) { return static_cast<size_t>(KindOfKey(key)); }

// The escaped module path a module key belongs to ("github.com/!burnt!sushi/toml"
// for ".../toml/@v/v1.2.0.zip"), as it appears in the key (URL-encoded);
// empty for sumdb keys and keys that are not a module's.
std::string_view ModuleOfKey(std::string_view key);

}  // namespace modgate::cache
