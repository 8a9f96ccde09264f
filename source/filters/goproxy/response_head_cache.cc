#include "source/filters/goproxy/response_head_cache.h"

namespace modgate::filters::goproxy {
namespace {

// The same object: the weak reference shares the entry's control block.
bool sameEntry(const std::weak_ptr<const cache::Entry>& held,
               const std::shared_ptr<const cache::Entry>& entry) {
  return !held.owner_before(entry) && !entry.owner_before(held);
}

}  // namespace

ResponseHeadCache::ResponseHeadCache(size_t max_bytes, stats::Stats* stats)
    : max_bytes_(max_bytes), stats_(stats) {}

ResponseHeadCache::~ResponseHeadCache() {
  if (stats_ != nullptr) stats_->response_head_bytes->Decrement(static_cast<double>(bytes_));
}

std::shared_ptr<const http::HeaderMap> ResponseHeadCache::find(
    const std::shared_ptr<const cache::Entry>& entry, bool immutable) {
  auto it = index_.find(Key{entry.get(), immutable});
  if (it == index_.end() || !sameEntry(it->second->entry, entry)) {
    // A slot of a dead entry whose address was reused stays until insert()
    // replaces it or it ages out.
    if (stats_ != nullptr) stats_->response_head_miss->Increment();
    return nullptr;
  }
  lru_.splice(lru_.begin(), lru_, it->second);
  if (stats_ != nullptr) stats_->response_head_hit->Increment();
  return it->second->fields;
}

void ResponseHeadCache::insert(const std::shared_ptr<const cache::Entry>& entry, bool immutable,
                               std::shared_ptr<const http::HeaderMap> fields) {
  const size_t slot_bytes = fields->byteSize() + kSlotOverheadBytes;
  if (slot_bytes > max_bytes_) return;
  const Key key{entry.get(), immutable};
  if (auto it = index_.find(key); it != index_.end()) erase(it->second);
  lru_.push_front(Slot{key, entry, std::move(fields), slot_bytes});
  index_.emplace(key, lru_.begin());
  bytes_ += slot_bytes;
  if (stats_ != nullptr) stats_->response_head_bytes->Increment(static_cast<double>(slot_bytes));
  while (bytes_ > max_bytes_) {
    erase(std::prev(lru_.end()));
    if (stats_ != nullptr) stats_->response_head_evictions->Increment();
  }
}

void ResponseHeadCache::erase(Lru::iterator slot) {
  bytes_ -= slot->bytes;
  if (stats_ != nullptr) stats_->response_head_bytes->Decrement(static_cast<double>(slot->bytes));
  index_.erase(slot->key);
  lru_.erase(slot);
}

}  // namespace modgate::filters::goproxy
