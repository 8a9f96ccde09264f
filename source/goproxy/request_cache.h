#pragma once

#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <variant>

#include "source/goproxy/request.h"

namespace modgate::goproxy {

// Remembers the parse of recently seen request targets, so a hot target is
// validated once rather than on every request. A build farm asks for the
// same few thousand targets over and over, and ParseRequest's strict
// validation (escapes, UTF-8, module path and semver checks, the rebuilt
// paths) was ~15% of a warm .info hit's CPU (perf, tools/bench info_h1).
//
// Only successful parses are kept: errors are cheap to recompute and must
// not let bad input fill the cache. Bounded by two generations: when the
// current one is full it becomes the previous one and the oldest is
// dropped; a hit in the previous generation moves to the current one.
// One per worker thread; not thread-safe.
class RequestCache {
 public:
  // `capacity`: targets remembered at most (about; two generations of half).
  explicit RequestCache(size_t capacity);

  // ParseRequest(target), shared and immutable.
  std::variant<std::shared_ptr<const Request>, RequestError> parse(std::string_view target);

  size_t size() const { return current_.size() + previous_.size(); }

 private:
  struct Hash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };
  using Map =
      std::unordered_map<std::string, std::shared_ptr<const Request>, Hash, std::equal_to<>>;

  void insert(std::string_view target, std::shared_ptr<const Request> request);

  const size_t generation_capacity_;
  Map current_;
  Map previous_;
};

}  // namespace modgate::goproxy
