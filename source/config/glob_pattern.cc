#include "source/config/glob_pattern.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

namespace modgate::config {
namespace {

// Length of the UTF-8 sequence starting at `s`, or 0 if it is malformed.
size_t Utf8Length(absl::string_view s) {
  unsigned char c = static_cast<unsigned char>(s[0]);
  size_t n = c < 0x80 ? 1 : (c >> 5) == 0x6 ? 2 : (c >> 4) == 0xe ? 3 : (c >> 3) == 0x1e ? 4 : 0;
  if (n == 0 || n > s.size()) return 0;
  for (size_t i = 1; i < n; ++i) {
    if ((static_cast<unsigned char>(s[i]) & 0xc0) != 0x80) return 0;
  }
  return n;
}

// Mirrors Go's path.getEsc: consumes one (possibly escaped) character of a
// class range; false when Go would return ErrBadPattern.
bool ConsumeClassChar(absl::string_view& chunk) {
  if (chunk.empty() || chunk[0] == '-' || chunk[0] == ']') return false;
  if (chunk[0] == '\\') {
    chunk.remove_prefix(1);
    if (chunk.empty()) return false;
  }
  size_t n = Utf8Length(chunk);
  if (n == 0) return false;
  chunk.remove_prefix(n);
  return !chunk.empty();
}

}  // namespace

absl::Status ValidateGlob(absl::string_view pattern) {
  auto bad = [pattern](absl::string_view why) {
    return absl::InvalidArgumentError(absl::StrCat("bad pattern \"", pattern, "\": ", why));
  };
  absl::string_view rest = pattern;
  while (!rest.empty()) {
    switch (rest[0]) {
      case '\\':
        rest.remove_prefix(1);
        if (rest.empty()) return bad("trailing '\\'");
        rest.remove_prefix(1);
        break;
      case '[': {
        rest.remove_prefix(1);
        if (!rest.empty() && rest[0] == '^') rest.remove_prefix(1);
        int ranges = 0;
        while (true) {
          if (!rest.empty() && rest[0] == ']' && ranges > 0) {
            rest.remove_prefix(1);
            break;
          }
          if (!ConsumeClassChar(rest)) return bad("malformed character class");
          if (rest[0] == '-') {
            rest.remove_prefix(1);
            if (!ConsumeClassChar(rest)) return bad("malformed range in character class");
          }
          ++ranges;
        }
        break;
      }
      default:
        rest.remove_prefix(1);
    }
  }
  return absl::OkStatus();
}

absl::Status ValidateGlobList(absl::string_view list) {
  for (absl::string_view glob : absl::StrSplit(list, ',')) {
    if (glob.empty()) continue;
    absl::Status status = ValidateGlob(glob);
    if (!status.ok()) return status;
  }
  return absl::OkStatus();
}

}  // namespace modgate::config
