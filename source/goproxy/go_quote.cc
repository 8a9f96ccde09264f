#include "source/goproxy/go_quote.h"

#include "absl/strings/str_format.h"

namespace modgate::goproxy {
namespace {

constexpr char32_t kRuneError = 0xFFFD;

bool IsPrintApprox(char32_t r) {
  if (r < 0x80) return r >= 0x20 && r != 0x7f;
  if (r <= 0x9f || r == 0xad) return false;
  if (r >= 0xD800 && r <= 0xDFFF) return false;
  return r <= 0x10FFFF;
}

void AppendUtf8(char32_t r, std::string* out) {
  if (r < 0x80) {
    out->push_back(static_cast<char>(r));
  } else if (r < 0x800) {
    out->push_back(static_cast<char>(0xC0 | (r >> 6)));
    out->push_back(static_cast<char>(0x80 | (r & 0x3F)));
  } else if (r < 0x10000) {
    out->push_back(static_cast<char>(0xE0 | (r >> 12)));
    out->push_back(static_cast<char>(0x80 | ((r >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (r & 0x3F)));
  } else {
    out->push_back(static_cast<char>(0xF0 | (r >> 18)));
    out->push_back(static_cast<char>(0x80 | ((r >> 12) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | ((r >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (r & 0x3F)));
  }
}

// Appends rune `r` (known valid) escaped as strconv.appendEscapedRune does.
void AppendEscapedRune(char32_t r, char quote, std::string* out) {
  if (r == static_cast<char32_t>(quote) || r == '\\') {
    out->push_back('\\');
    out->push_back(static_cast<char>(r));
    return;
  }
  if (IsPrintApprox(r)) {
    AppendUtf8(r, out);
    return;
  }
  switch (r) {
    case '\a':
      out->append("\\a");
      return;
    case '\b':
      out->append("\\b");
      return;
    case '\f':
      out->append("\\f");
      return;
    case '\n':
      out->append("\\n");
      return;
    case '\r':
      out->append("\\r");
      return;
    case '\t':
      out->append("\\t");
      return;
    case '\v':
      out->append("\\v");
      return;
  }
  if (r < ' ' || r == 0x7f) {
    absl::StrAppendFormat(out, "\\x%02x", static_cast<unsigned>(r));
  } else if (r > 0x10FFFF || (r >= 0xD800 && r <= 0xDFFF)) {
    out->append("\\ufffd");
  } else if (r < 0x10000) {
    absl::StrAppendFormat(out, "\\u%04x", static_cast<unsigned>(r));
  } else {
    absl::StrAppendFormat(out, "\\U%08x", static_cast<unsigned>(r));
  }
}

}  // namespace

char32_t DecodeRune(std::string_view s, int* size) {
  if (s.empty()) {
    *size = 0;
    return kRuneError;
  }
  const auto b0 = static_cast<unsigned char>(s[0]);
  *size = 1;
  if (b0 < 0x80) return b0;
  int n;
  char32_t r;
  char32_t min;
  if (b0 >= 0xC2 && b0 <= 0xDF) {
    n = 2;
    r = b0 & 0x1F;
    min = 0x80;
  } else if (b0 >= 0xE0 && b0 <= 0xEF) {
    n = 3;
    r = b0 & 0x0F;
    min = 0x800;
  } else if (b0 >= 0xF0 && b0 <= 0xF4) {
    n = 4;
    r = b0 & 0x07;
    min = 0x10000;
  } else {
    return kRuneError;
  }
  if (static_cast<int>(s.size()) < n) return kRuneError;
  for (int i = 1; i < n; ++i) {
    const auto b = static_cast<unsigned char>(s[i]);
    if ((b & 0xC0) != 0x80) return kRuneError;
    r = (r << 6) | (b & 0x3F);
  }
  if (r < min || r > 0x10FFFF || (r >= 0xD800 && r <= 0xDFFF)) return kRuneError;
  *size = n;
  return r;
}

bool ValidUtf8(std::string_view s) {
  while (!s.empty()) {
    int size;
    const char32_t r = DecodeRune(s, &size);
    if (r == kRuneError && size == 1) return false;
    s.remove_prefix(size);
  }
  return true;
}

std::string GoQuote(std::string_view s) {
  std::string out = "\"";
  while (!s.empty()) {
    int size;
    const char32_t r = DecodeRune(s, &size);
    if (r == kRuneError && size == 1) {
      absl::StrAppendFormat(&out, "\\x%02x", static_cast<unsigned char>(s[0]));
    } else {
      AppendEscapedRune(r, '"', &out);
    }
    s.remove_prefix(size);
  }
  out.push_back('"');
  return out;
}

std::string GoQuoteRune(char32_t r) {
  if (r > 0x10FFFF || (r >= 0xD800 && r <= 0xDFFF)) r = kRuneError;
  std::string out = "'";
  AppendEscapedRune(r, '\'', &out);
  out.push_back('\'');
  return out;
}

}  // namespace modgate::goproxy
