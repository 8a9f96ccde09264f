#include "source/goproxy/request_cache.h"

#include <algorithm>

namespace modgate::goproxy {

RequestCache::RequestCache(size_t capacity)
    : generation_capacity_(std::max<size_t>(capacity / 2, 1)) {}

std::variant<std::shared_ptr<const Request>, RequestError> RequestCache::parse(
    std::string_view target) {
  if (auto it = current_.find(target); it != current_.end()) return it->second;
  if (auto it = previous_.find(target); it != previous_.end()) {
    std::shared_ptr<const Request> request = it->second;
    previous_.erase(it);
    insert(target, request);
    return request;
  }
  auto parsed = ParseRequest(target);
  if (auto* error = std::get_if<RequestError>(&parsed)) return std::move(*error);
  auto request = std::make_shared<const Request>(std::move(std::get<Request>(parsed)));
  insert(target, request);
  return request;
}

void RequestCache::insert(std::string_view target, std::shared_ptr<const Request> request) {
  if (current_.size() >= generation_capacity_) {
    previous_ = std::move(current_);
    current_ = Map();
  }
  current_.emplace(std::string(target), std::move(request));
}

}  // namespace modgate::goproxy
