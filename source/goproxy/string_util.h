#pragma once

#include <initializer_list>
#include <string>
#include <string_view>
#include <vector>

// Small std::string_view helpers for this package. Debian's Abseil is built
// with its own absl::string_view (ABSL_OPTION_USE_STD_STRING_VIEW 0), so
// absl::StrCat, absl::StrSplit and friends do not accept std::string_view,
// the type of this package's API.
namespace modgate::goproxy {

// Views any contiguous character range, e.g. an absl::string_view such as
// absl::Status::message(), as a std::string_view.
template <typename Chars>
std::string_view View(const Chars& chars) {
  return std::string_view(chars.data(), chars.size());
}

// Concatenates `parts`: Concat({"a", s, "b"}).
inline std::string Concat(std::initializer_list<std::string_view> parts) {
  size_t size = 0;
  for (std::string_view p : parts) size += p.size();
  std::string out;
  out.reserve(size);
  for (std::string_view p : parts) out.append(p);
  return out;
}

// Splits `s` at every `sep`; "" yields {""}, like Go's strings.Split.
inline std::vector<std::string_view> Split(std::string_view s, char sep) {
  std::vector<std::string_view> out;
  size_t start = 0;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == sep) {
      out.push_back(s.substr(start, i - start));
      start = i + 1;
    }
  }
  out.push_back(s.substr(start));
  return out;
}

// Removes `prefix` from the front of `*s` if it is there; reports whether it was.
inline bool ConsumePrefix(std::string_view* s, std::string_view prefix) {
  if (!s->starts_with(prefix)) return false;
  s->remove_prefix(prefix.size());
  return true;
}

// Removes `suffix` from the end of `*s` if it is there; reports whether it was.
inline bool ConsumeSuffix(std::string_view* s, std::string_view suffix) {
  if (!s->ends_with(suffix)) return false;
  s->remove_suffix(suffix.size());
  return true;
}

// ASCII case-insensitive equality.
inline bool EqualsIgnoreAsciiCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    char x = a[i];
    char y = b[i];
    if (x >= 'A' && x <= 'Z') x = static_cast<char>(x - 'A' + 'a');
    if (y >= 'A' && y <= 'Z') y = static_cast<char>(y - 'A' + 'a');
    if (x != y) return false;
  }
  return true;
}

}  // namespace modgate::goproxy
