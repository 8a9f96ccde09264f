#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"

// Tile coordinates of a checksum database's transparency log and their URL
// paths: a port of Tile, Tile.Path and ParseTilePath from
// golang.org/x/mod/sumdb/tlog/tile.go. The proxy forwards and caches
// "<sumdb>/tile/..." requests, so it accepts exactly the paths the go command
// builds and nothing that could alias them.
namespace modgate::goproxy {

struct Tile {
  int h = 0;      // height of the tile, 1..30
  int64_t l = 0;  // level in the tiling, or -1 for a record data tile
  int64_t n = 0;  // index of the tile within its level
  int w = 0;      // width: number of hashes (records) in it, 1..2^h
  bool operator==(const Tile&) const = default;
};

// Returns the tile's path, "tile/H/L/NNN[.p/W]" (Tile.Path): N is split into
// 3-digit elements, all but the last prefixed with 'x' ("x123/x456/078"); L is
// "data" for record tiles; ".p/W" marks a partial tile (W < 2^H).
std::string TilePath(const Tile& tile);

// Parses a tile path (tlog.ParseTilePath): `path` must be exactly what
// TilePath would produce for the tile it describes, with H in 1..30, L >= 0
// or "data", and W in 1..2^H-1 after ".p/".
// Error: `malformed tile path "tile/3/5/123/456/078"`.
absl::StatusOr<Tile> ParseTilePath(std::string_view path);

}  // namespace modgate::goproxy
