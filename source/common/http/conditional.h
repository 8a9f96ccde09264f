#pragma once

#include <cstdint>
#include <string_view>

#include "source/common/http/header_map.h"

// Conditional requests (RFC 9110 section 13) for a GET or HEAD of a stored
// representation: what If-None-Match, If-Modified-Since and If-Range ask,
// given the representation's validators. Pure functions over the request's
// headers, so every body path (memory, file, sendfile, HTTP/1.1, HTTP/2)
// gets the same answer.
namespace modgate::http {

struct Validators {
  // A strong entity tag with its quotes ("\"abc\""); empty when there is none.
  std::string_view etag;
  // Seconds since the epoch; 0 when unknown.
  int64_t last_modified = 0;
};

// True when a GET/HEAD should be answered 304 Not Modified: If-None-Match
// lists the ETag (weak comparison) or is "*"; or, only when If-None-Match
// is absent, If-Modified-Since is a valid date not older than Last-Modified.
bool notModified(const HeaderMap& request, const Validators& validators);

// True when the request's Range may be honoured: there is no If-Range, or it
// names the current representation (strong comparison with the ETag, or a
// date equal to Last-Modified). A false answer means "send all of it, 200".
bool ifRangeHolds(const HeaderMap& request, const Validators& validators);

}  // namespace modgate::http
