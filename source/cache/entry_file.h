#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "source/cache/entry.h"

// The on-disk format of one cache entry, one file per key:
//
//   [0, 32)               prefix: "MODGATE1" + body size (16 lower-case hex
//                         digits) + meta size (7 hex digits) + "\n"
//   [32, 32+B)            body, B bytes, exactly as upstream sent it
//   [32+B, 32+B+M)        meta: "name value\n" lines, values C-escaped:
//                           key, status, content-type, stored-at,
//                           expires-at, upstream-error, etag,
//                           upstream-etag, upstream-last-modified (the
//                           last four optional: files written before they
//                           existed stay valid)
//
// Why this shape: the body streams into a temp file before its final meta
// is known (size, expiry), and in-flight readers read the growing temp file
// at the same offsets as the committed file. So the body goes at a fixed
// offset, the meta after it, and the prefix is written last, just before the
// fsync and rename: a file whose prefix is missing, or whose size is not
// 32+B+M, is not a complete entry and is deleted, never served. Startup
// reads the prefix and the meta only.
namespace modgate::cache {

inline constexpr uint64_t kBodyOffset = 32;
inline constexpr std::string_view kEntryMagic = "MODGATE1";
// Meta is small (a key and a few fields); anything larger is corruption.
inline constexpr uint32_t kMaxMetaSize = 1 << 20;

std::string EncodePrefix(uint64_t body_size, uint32_t meta_size);
absl::Status DecodePrefix(std::string_view prefix, uint64_t& body_size, uint32_t& meta_size);

// `meta.body_size` is not encoded: the prefix holds it.
std::string EncodeMeta(std::string_view key, const EntryMeta& meta);
absl::Status DecodeMeta(std::string_view text, std::string& key, EntryMeta& meta);

struct EntryFileInfo {
  std::string key;
  EntryMeta meta;  // body_size filled from the prefix
  uint64_t file_size = 0;
  FileId file_id;
  int64_t mtime_unix_ms = 0;
};

// Reads and checks the prefix and meta of the entry file open as `fd`
// (blocking). DataLoss for a truncated, padded or malformed file.
absl::StatusOr<EntryFileInfo> ReadEntryFileInfo(int fd);

}  // namespace modgate::cache
