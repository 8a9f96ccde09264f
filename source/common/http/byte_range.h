#pragma once

#include <cstdint>
#include <string_view>

// The Range header (RFC 9110 section 14) for one stored representation of
// known length. Only single byte ranges are served as 206: a request for
// several is answered 200 with the whole body, which the RFC allows, and
// which is what a resuming client or a CDN fill needs anyway.
namespace modgate::http {

struct ByteRange {
  enum class Kind {
    // No usable Range (absent, another unit, malformed, several ranges):
    // answer 200 with the whole body.
    kIgnore,
    // Answer 206 with bytes [first, first + length).
    kSatisfiable,
    // Answer 416 with Content-Range: bytes */<size>.
    kUnsatisfiable,
  };
  Kind kind = Kind::kIgnore;
  uint64_t first = 0;
  uint64_t length = 0;
};

// Evaluates `header` ("bytes=N-", "bytes=N-M", "bytes=-N") against a body
// of `size` bytes. A range whose last byte is past the end is cut to the
// end; one starting past the end, or a suffix of 0 bytes, is unsatisfiable.
ByteRange parseRange(std::string_view header, uint64_t size);

}  // namespace modgate::http
