#pragma once

#include <string>
#include <string_view>

namespace modgate::goproxy {

// Quotes `s` the way Go's strconv.Quote (and so fmt's %q verb) does, so that
// error messages ported from golang.org/x/mod read exactly like Go's: the go
// command prints a proxy's error body to the user verbatim.
//
// Bytes that are not valid UTF-8 become \xNN. One approximation: Go keeps a
// non-ASCII rune literal only if unicode.IsPrint says so; without Unicode
// tables this treats every valid non-ASCII rune as printable except the C1
// controls (U+0080..U+009F), U+00AD and the UTF-16 surrogate range.
std::string GoQuote(std::string_view s);

// Quotes one rune like Go's strconv.QuoteRune (fmt's %q on a rune): 'x'.
std::string GoQuoteRune(char32_t r);

// Decodes one UTF-8 sequence at the start of `s` like Go's
// utf8.DecodeRuneInString: returns the rune and sets `*size` to the number of
// bytes it took. Invalid or truncated input yields U+FFFD with `*size` == 1
// (0 for empty input).
char32_t DecodeRune(std::string_view s, int* size);

// Reports whether `s` is valid UTF-8 (Go's utf8.ValidString).
bool ValidUtf8(std::string_view s);

}  // namespace modgate::goproxy
