#pragma once

#include <sys/types.h>

#include <cstdint>
#include <memory>
#include <string>

namespace modgate::cache {

// What the cache knows about a stored answer besides its body. Negative
// answers (404/410 from upstream) are entries too: the go command asks for
// the @latest of every path prefix, so "not a module" must be cheap to repeat.
struct EntryMeta {
  int status = 200;  // 200, or 404/410 for negative entries
  std::string content_type;
  // Set by the writer on commit: the number of body bytes actually stored.
  uint64_t body_size = 0;
  int64_t stored_at_unix_ms = 0;  // 0 on commit means "now"
  // 0 = immutable (canonical .mod/.zip, sumdb tiles): never expires.
  int64_t expires_at_unix_ms = 0;
  // Why upstream said no, kept so a negative answer can be explained again;
  // empty when there is nothing to say.
  std::string upstream_error;
  // Our strong validator, quoted ("\"<hex>\""): the first 128 bits of the
  // body's SHA-256, computed by the writer as the body reaches the disk, so
  // serving it costs nothing. Empty for entries written before validators
  // existed: they are served without an ETag (Last-Modified still works).
  std::string etag;
  // The upstream's own validators as it sent them, for revalidating an
  // expired entry conditionally (If-None-Match / If-Modified-Since); empty
  // when it sent none.
  std::string upstream_etag;
  std::string upstream_last_modified;

  bool fresh(int64_t now_unix_ms) const {
    return expires_at_unix_ms == 0 || now_unix_ms < expires_at_unix_ms;
  }
  bool operator==(const EntryMeta&) const = default;
};

// Identity of the file an entry was read from or committed to. A key's file
// is replaced by rename, so (dev, ino) tells an entry's own file apart from
// a newer version that took its name.
struct FileId {
  dev_t dev = 0;
  ino_t ino = 0;
  bool operator==(const FileId&) const = default;
};

// An immutable snapshot of one cached answer. The cache never mutates an
// Entry it handed out: a change (hot body loaded or dropped, newer version)
// installs a new Entry object, so holders need no locking.
struct Entry {
  std::string key;
  EntryMeta meta;
  // Absolute path of the entry file; empty for an answer that is not (or
  // could not be) stored, e.g. an uncacheable upstream error held in memory.
  std::string path;
  // Where the body starts in `path` (and in an in-flight temp file).
  uint64_t body_offset = 0;
  // Size of the whole file (prefix + body + meta): what counts against the
  // cache's size cap.
  uint64_t file_size = 0;
  FileId file_id;
  // The body in memory for small objects (lists, .info, .mod, tiles, negative
  // answers); nullptr when the body must be read from `path`.
  std::shared_ptr<const std::string> hot_body;

  bool fresh(int64_t now_unix_ms) const { return meta.fresh(now_unix_ms); }
  // True when the entry is backed by a file in the cache.
  bool stored() const { return !path.empty(); }
};

}  // namespace modgate::cache
