#pragma once

#include <list>
#include <memory>
#include <string>
#include <unordered_map>

#include "source/cache/entry.h"
#include "source/common/buffer/buffer.h"

namespace modgate::filters::goproxy {

// A worker's recently opened cache files (nginx's open_file_cache): a hit on
// a file in here is sent at once, without a round trip through the disk
// thread pool to open() it again. Entries are keyed by cache key and file
// identity, so a replaced entry (new inode) is never served from an old fd;
// an evicted entry is never looked up. Bounded, least recently used out.
// Worker thread only.
class OpenFileCache {
 public:
  explicit OpenFileCache(size_t capacity) : capacity_(capacity) {}

  std::shared_ptr<const buffer::FileHandle> find(const cache::Entry& entry);
  void insert(const cache::Entry& entry, std::shared_ptr<const buffer::FileHandle> file);
  size_t size() const { return index_.size(); }

 private:
  struct Slot {
    std::string key;
    cache::FileId file_id;
    std::shared_ptr<const buffer::FileHandle> file;
  };
  const size_t capacity_;
  std::list<Slot> lru_;  // most recent first
  std::unordered_map<std::string, std::list<Slot>::iterator> index_;
};

}  // namespace modgate::filters::goproxy
