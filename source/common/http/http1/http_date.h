#pragma once

#include <ctime>
#include <string_view>

namespace modgate::http::http1 {

// The IMF-fixdate (RFC 9110 5.6.7) for `when`, e.g.
// "Sun, 06 Nov 1994 08:49:37 GMT". Written by hand rather than with
// strftime() so the result never depends on the process locale.
// `out` must hold at least 29 bytes; returns the length written.
size_t formatHttpDate(time_t when, char* out);

// Parses an IMF-fixdate ("Sun, 06 Nov 1994 08:49:37 GMT"), the only form
// a sender may generate (RFC 9110 5.6.7); false for anything else, which a
// conditional request then treats as absent, as the RFC asks.
bool parseHttpDate(std::string_view text, time_t& out);

// The current time as an IMF-fixdate. Every response carries a Date header,
// so the text is formatted once per second per thread and reused; the view
// stays valid until the next call on the same thread.
std::string_view cachedHttpDate();

}  // namespace modgate::http::http1
