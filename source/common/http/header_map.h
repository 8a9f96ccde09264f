#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace modgate::http {

// An ordered list of header fields. Names are stored lower-case (HTTP/2
// requires it; HTTP/1 names are folded on parse). Small and linear: a GOPROXY
// request carries a handful of headers.
class HeaderMap {
 public:
  struct Entry {
    std::string name;
    std::string value;
  };

  // `name` must be lower-case.
  void add(std::string name, std::string value);
  // Room for `n` entries, so building a response does not grow the vector.
  void reserve(size_t n) { entries_.reserve(n); }
  // Replaces every field named `name` with one.
  void set(std::string_view name, std::string value);
  void remove(std::string_view name);
  // The first value of `name`, or nullptr.
  const std::string* get(std::string_view name) const;

  const std::vector<Entry>& entries() const { return entries_; }
  size_t size() const { return entries_.size(); }
  // Bytes of names and values, for limits.
  size_t byteSize() const;

 private:
  std::vector<Entry> entries_;
};

struct RequestHeaders {
  std::string method;     // "GET"
  std::string path;       // request-target as received: "/a/b/@v/list?x"
  std::string authority;  // Host or :authority
  std::string scheme;     // "http" or "https"
  HeaderMap headers;      // the rest (no pseudo-headers, no Host)
};

struct ResponseHeaders {
  int status = 200;
  // Fields built once and shared by many responses (a cached answer's
  // content-type, length, validators...: see goproxy's ResponseHeadCache),
  // sent before `headers`; may be null. Immutable: codecs read it, and a
  // response's own additions go to `headers`.
  std::shared_ptr<const HeaderMap> shared;
  HeaderMap headers;  // content-length is set here (or in `shared`) when known

  // Calls `visit` for each field, `shared` ones first.
  template <typename Visit>
  void forEach(Visit&& visit) const {
    if (shared != nullptr) {
      for (const HeaderMap::Entry& entry : shared->entries()) visit(entry);
    }
    for (const HeaderMap::Entry& entry : headers.entries()) visit(entry);
  }
};

}  // namespace modgate::http
