#include "source/cache/entry_file.h"

#include <sys/stat.h>

#include <cinttypes>
#include <cstdio>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/numbers.h"
#include "source/cache/file_util.h"

namespace modgate::cache {
namespace {

absl::Status Corrupt(std::string why) {
  return absl::DataLossError(absl::string_view("corrupt cache entry: " + why));
}

bool ParseHex(std::string_view text, uint64_t& out) {
  if (text.empty()) return false;
  out = 0;
  for (char c : text) {
    int digit;
    if (c >= '0' && c <= '9') {
      digit = c - '0';
    } else if (c >= 'a' && c <= 'f') {
      digit = c - 'a' + 10;
    } else {
      return false;
    }
    out = out * 16 + static_cast<uint64_t>(digit);
  }
  return true;
}

void AddField(std::string& out, std::string_view name, std::string_view value) {
  out.append(name);
  out.push_back(' ');
  out.append(absl::CEscape(absl::string_view(value.data(), value.size())));
  out.push_back('\n');
}

}  // namespace

std::string EncodePrefix(uint64_t body_size, uint32_t meta_size) {
  char buf[kBodyOffset + 1];
  std::snprintf(buf, sizeof(buf), "%s%016" PRIx64 "%07" PRIx32 "\n", kEntryMagic.data(), body_size,
                meta_size);
  return std::string(buf, kBodyOffset);
}

absl::Status DecodePrefix(std::string_view prefix, uint64_t& body_size, uint32_t& meta_size) {
  if (prefix.size() != kBodyOffset || prefix.substr(0, kEntryMagic.size()) != kEntryMagic ||
      prefix.back() != '\n') {
    return Corrupt("bad prefix");
  }
  uint64_t meta = 0;
  if (!ParseHex(prefix.substr(8, 16), body_size) || !ParseHex(prefix.substr(24, 7), meta)) {
    return Corrupt("bad sizes in prefix");
  }
  if (meta > kMaxMetaSize) return Corrupt("meta too large");
  meta_size = static_cast<uint32_t>(meta);
  return absl::OkStatus();
}

std::string EncodeMeta(std::string_view key, const EntryMeta& meta) {
  std::string out;
  AddField(out, "key", key);
  AddField(out, "status", std::to_string(meta.status));
  AddField(out, "content-type", meta.content_type);
  AddField(out, "stored-at", std::to_string(meta.stored_at_unix_ms));
  AddField(out, "expires-at", std::to_string(meta.expires_at_unix_ms));
  if (!meta.upstream_error.empty()) AddField(out, "upstream-error", meta.upstream_error);
  if (!meta.etag.empty()) AddField(out, "etag", meta.etag);
  if (!meta.upstream_etag.empty()) AddField(out, "upstream-etag", meta.upstream_etag);
  if (!meta.upstream_last_modified.empty()) {
    AddField(out, "upstream-last-modified", meta.upstream_last_modified);
  }
  return out;
}

absl::Status DecodeMeta(std::string_view text, std::string& key, EntryMeta& meta) {
  bool have_key = false, have_status = false;
  while (!text.empty()) {
    size_t eol = text.find('\n');
    if (eol == std::string_view::npos) return Corrupt("meta line without newline");
    std::string_view line = text.substr(0, eol);
    text.remove_prefix(eol + 1);
    size_t space = line.find(' ');
    if (space == std::string_view::npos) return Corrupt("meta line without value");
    std::string_view name = line.substr(0, space);
    std::string value;
    std::string_view escaped = line.substr(space + 1);
    if (!absl::CUnescape(absl::string_view(escaped.data(), escaped.size()), &value)) {
      return Corrupt("bad escape in meta");
    }
    absl::string_view v(value);
    if (name == "key") {
      key = value;
      have_key = true;
    } else if (name == "status") {
      if (!absl::SimpleAtoi(v, &meta.status)) return Corrupt("bad status");
      have_status = true;
    } else if (name == "content-type") {
      meta.content_type = value;
    } else if (name == "stored-at") {
      if (!absl::SimpleAtoi(v, &meta.stored_at_unix_ms)) return Corrupt("bad stored-at");
    } else if (name == "expires-at") {
      if (!absl::SimpleAtoi(v, &meta.expires_at_unix_ms)) return Corrupt("bad expires-at");
    } else if (name == "upstream-error") {
      meta.upstream_error = value;
    } else if (name == "etag") {
      meta.etag = value;
    } else if (name == "upstream-etag") {
      meta.upstream_etag = value;
    } else if (name == "upstream-last-modified") {
      meta.upstream_last_modified = value;
    }
    // Unknown names are skipped: a newer version may add fields.
  }
  if (!have_key || !have_status) return Corrupt("meta lacks key or status");
  return absl::OkStatus();
}

absl::StatusOr<EntryFileInfo> ReadEntryFileInfo(int fd) {
  struct stat st;
  if (::fstat(fd, &st) != 0) return ErrnoStatus(errno, "fstat");
  if (!S_ISREG(st.st_mode)) return Corrupt("not a regular file");
  EntryFileInfo info;
  info.file_size = static_cast<uint64_t>(st.st_size);
  info.file_id = FileId{st.st_dev, st.st_ino};
  info.mtime_unix_ms =
      static_cast<int64_t>(st.st_mtim.tv_sec) * 1000 + st.st_mtim.tv_nsec / 1000000;
  if (info.file_size < kBodyOffset) return Corrupt("shorter than its prefix");
  char prefix[kBodyOffset];
  absl::Status status = PreadFull(fd, prefix, kBodyOffset, 0);
  if (!status.ok()) return status;
  uint64_t body_size;
  uint32_t meta_size;
  status = DecodePrefix(std::string_view(prefix, kBodyOffset), body_size, meta_size);
  if (!status.ok()) return status;
  // Guard the sum against overflow before comparing it with the real size.
  if (body_size > info.file_size || kBodyOffset + body_size + meta_size != info.file_size) {
    return Corrupt("size does not match prefix (truncated?)");
  }
  std::string meta_text(meta_size, '\0');
  status = PreadFull(fd, meta_text.data(), meta_size, kBodyOffset + body_size);
  if (!status.ok()) return status;
  status = DecodeMeta(meta_text, info.key, info.meta);
  if (!status.ok()) return status;
  info.meta.body_size = body_size;
  return info;
}

}  // namespace modgate::cache
