#include "source/filters/goproxy/open_file_cache.h"

namespace modgate::filters::goproxy {

std::shared_ptr<const buffer::FileHandle> OpenFileCache::find(const cache::Entry& entry) {
  auto it = index_.find(entry.key);
  if (it == index_.end()) return nullptr;
  if (!(it->second->file_id == entry.file_id)) {
    // The key's file was replaced since: forget the old one.
    lru_.erase(it->second);
    index_.erase(it);
    return nullptr;
  }
  lru_.splice(lru_.begin(), lru_, it->second);
  return it->second->file;
}

void OpenFileCache::insert(const cache::Entry& entry,
                           std::shared_ptr<const buffer::FileHandle> file) {
  if (capacity_ == 0) return;
  auto it = index_.find(entry.key);
  if (it != index_.end()) {
    lru_.erase(it->second);
    index_.erase(it);
  }
  lru_.push_front(Slot{entry.key, entry.file_id, std::move(file)});
  index_[entry.key] = lru_.begin();
  while (index_.size() > capacity_) {
    index_.erase(lru_.back().key);
    lru_.pop_back();
  }
}

}  // namespace modgate::filters::goproxy
