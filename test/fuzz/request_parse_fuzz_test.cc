// Module path, version and escape parsing: every request target the GOPROXY
// filter parses, and for what it accepts, that the rebuilt paths parse back
// to the same request (one spelling per resource).
#include <cstdlib>
#include <string>

#include "source/goproxy/module_path.h"
#include "source/goproxy/request.h"
#include "source/goproxy/semver.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace modgate::goproxy;
  const std::string input(reinterpret_cast<const char*>(data), size);
  auto parsed = ParseRequest(input);
  if (const Request* request = std::get_if<Request>(&parsed)) {
    auto again = ParseRequest(request->upstream_path);
    const Request* same = std::get_if<Request>(&again);
    if (same == nullptr || same->cache_key != request->cache_key ||
        same->module != request->module || same->version != request->version) {
      abort();
    }
  }
  // The escaping functions on their own, both ways.
  auto escaped = EscapePath(input);
  if (escaped.ok()) {
    auto back = UnescapePath(*escaped);
    if (!back.ok() || *back != input) abort();
  }
  (void)UnescapePath(input);
  (void)EscapeVersion(input);
  (void)UnescapeVersion(input);
  return 0;
}
