#include "source/goproxy/tile_path.h"

#include <cstdint>
#include <limits>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_format.h"
#include "source/goproxy/go_quote.h"
#include "source/goproxy/string_util.h"

namespace modgate::goproxy {
namespace {

// Each directory holds at most 1000 each of xNNN, NNN and NNN.p children.
constexpr int64_t kPathBase = 1000;

absl::Status BadPath(std::string_view path) {
  return absl::InvalidArgumentError(Concat({"malformed tile path ", GoQuote(path)}));
}

// Like Go's strconv.Atoi: optional sign, then decimal digits, in range.
bool Atoi(std::string_view s, int64_t* out) {
  if (s.empty()) return false;
  // absl::SimpleAtoi also skips whitespace, which Atoi rejects.
  for (size_t i = 0; i < s.size(); ++i) {
    const char c = s[i];
    if (!((c >= '0' && c <= '9') || (i == 0 && (c == '+' || c == '-')))) return false;
  }
  return absl::SimpleAtoi(absl::string_view(s.data(), s.size()), out);
}

}  // namespace

std::string TilePath(const Tile& tile) {
  int64_t n = tile.n;
  std::string n_str = absl::StrFormat("%03d", n % kPathBase);
  while (n >= kPathBase) {
    n /= kPathBase;
    n_str = absl::StrFormat("x%03d/%s", n % kPathBase, n_str);
  }
  std::string p_str;
  if (tile.w != (1 << tile.h)) p_str = absl::StrFormat(".p/%d", tile.w);
  const std::string l = tile.l == -1 ? "data" : std::to_string(tile.l);
  return absl::StrFormat("tile/%d/%s/%s%s", tile.h, l, n_str, p_str);
}

absl::StatusOr<Tile> ParseTilePath(std::string_view path) {
  std::vector<std::string_view> f = Split(path, '/');
  if (f.size() < 4 || f[0] != "tile") return BadPath(path);
  int64_t h;
  int64_t l = 0;
  const bool is_data = f[2] == "data";
  if (!Atoi(f[1], &h) || (!is_data && !Atoi(f[2], &l)) || h < 1 || l < 0 || h > 30) {
    return BadPath(path);
  }
  int64_t w = int64_t{1} << h;
  if (std::string_view dot_p = f[f.size() - 2]; dot_p.ends_with(".p")) {
    int64_t ww;
    if (!Atoi(f.back(), &ww) || ww <= 0 || ww >= w) return BadPath(path);
    w = ww;
    f[f.size() - 2] = dot_p.substr(0, dot_p.size() - 2);
    f.pop_back();
  }
  int64_t n = 0;
  for (size_t i = 3; i < f.size(); ++i) {
    std::string_view s = f[i];
    ConsumePrefix(&s, "x");
    int64_t nn;
    if (!Atoi(s, &nn) || nn < 0 || nn >= kPathBase) return BadPath(path);
    // Go's int64 would silently wrap here (and then fail the round trip).
    if (n > (std::numeric_limits<int64_t>::max() - nn) / kPathBase) return BadPath(path);
    n = n * kPathBase + nn;
  }
  const Tile tile{static_cast<int>(h), is_data ? -1 : l, n, static_cast<int>(w)};
  if (path != TilePath(tile)) return BadPath(path);
  return tile;
}

}  // namespace modgate::goproxy
