#include "source/common/http/header_map.h"

#include <algorithm>

namespace modgate::http {

void HeaderMap::add(std::string name, std::string value) {
  entries_.push_back(Entry{std::move(name), std::move(value)});
}

void HeaderMap::set(std::string_view name, std::string value) {
  remove(name);
  entries_.push_back(Entry{std::string(name), std::move(value)});
}

void HeaderMap::remove(std::string_view name) {
  entries_.erase(std::remove_if(entries_.begin(), entries_.end(),
                                [name](const Entry& entry) { return entry.name == name; }),
                 entries_.end());
}

const std::string* HeaderMap::get(std::string_view name) const {
  for (const auto& entry : entries_) {
    if (entry.name == name) return &entry.value;
  }
  return nullptr;
}

size_t HeaderMap::byteSize() const {
  size_t total = 0;
  for (const auto& entry : entries_) total += entry.name.size() + entry.value.size();
  return total;
}

}  // namespace modgate::http
