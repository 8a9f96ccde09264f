// Cases from golang.org/x/mod/sumdb/tlog/tlog_test.go (tilePaths), plus
// malformed paths whose expected results were produced by running
// tlog.ParseTilePath (Debian's golang.org/x/mod, go1.19) on them.
#include "source/goproxy/tile_path.h"

#include <string>
#include <vector>

#include "gtest/gtest.h"

namespace modgate::goproxy {
namespace {

struct Case {
  std::string path;
  bool ok;
  Tile tile;
};

TEST(TilePathTest, GoTable) {
  const std::vector<Case> tests = {
      {"tile/4/0/001", true, {4, 0, 1, 16}},
      {"tile/4/0/001.p/5", true, {4, 0, 1, 5}},
      {"tile/3/5/x123/x456/078", true, {3, 5, 123456078, 8}},
      {"tile/3/5/x123/x456/078.p/2", true, {3, 5, 123456078, 2}},
      {"tile/1/0/x003/x057/500", true, {1, 0, 3057500, 2}},
      {"tile/3/5/123/456/078", false, {}},
      {"tile/3/-1/123/456/078", false, {}},
      {"tile/1/data/x003/x057/500", true, {1, -1, 3057500, 2}},
  };
  for (const Case& tt : tests) {
    if (tt.ok) {
      EXPECT_EQ(TilePath(tt.tile), tt.path);
    }
    absl::StatusOr<Tile> tile = ParseTilePath(tt.path);
    ASSERT_EQ(tile.ok(), tt.ok) << tt.path;
    if (tt.ok) {
      EXPECT_EQ(*tile, tt.tile) << tt.path;
    }
  }
}

TEST(TilePathTest, MoreCasesCheckedAgainstGo) {
  const std::vector<Case> tests = {
      {"tile/8/0/000.p/46", true, {8, 0, 0, 46}},
      {"tile/8/data/000.p/46", true, {8, -1, 0, 46}},
      {"tile/8/0/000", true, {8, 0, 0, 256}},
      {"tile/8/0/000.p/256", false, {}},
      {"tile/8/0/000.p/255", true, {8, 0, 0, 255}},
      {"tile/8/0/000.p/0", false, {}},
      {"tile/8/0/000.p/046", false, {}},
      {"tile/0/0/000", false, {}},
      {"tile/31/0/000", false, {}},
      {"tile/30/0/000", true, {30, 0, 0, 1073741824}},
      {"tile/08/0/000", false, {}},
      {"tile/8/00/000", false, {}},
      {"tile/8/0/0", false, {}},
      {"tile/8/0/0000", false, {}},
      {"tile/8/0/x000/001", false, {}},
      {"tile/8/0/x001/234", true, {8, 0, 1234, 256}},
      {"tile/8/0/001/234", false, {}},
      {"tile/+8/0/000", false, {}},
      {"tile/8/+0/000", false, {}},
      {"tile/8/0/+00", false, {}},
      {"tile/8/0/-00", false, {}},
      {"tile/8/0", false, {}},
      {"tile/8/0/", false, {}},
      {"tile/8/0/000/", false, {}},
      {"tile/8/0/000.p", false, {}},
      {"tile/8/0/000.p/", false, {}},
      {"tile/8/0/x001.p/2", false, {}},
      {"tile/8/0/000.p/1/2", false, {}},
      {"tile/8/1/x1000/000", false, {}},
      {"tile/8/data/000.p/1", true, {8, -1, 0, 1}},
      {"tile/8/DATA/000", false, {}},
      {"tile/8/0/ 00", false, {}},
      {"tile/8/0/x999/x999/x999/x999/x999/x999/999", false, {}},
      {"tile/8/0/x009/x223/x372/x036/x854/x775/807", true, {8, 0, 9223372036854775807, 256}},
      {"tile/8/0/x009/x223/x372/x036/x854/x775/808", false, {}},
      {"tile/8/123456789012/000", true, {8, 123456789012, 0, 256}},
      // Not from Go's run; obvious by the same rules.
      {"", false, {}},
      {"tile", false, {}},
      {"tiles/8/0/000", false, {}},
      {"/tile/8/0/000", false, {}},
      {"tile/8/0/000.p/46/", false, {}},
      {"tile/8/0/0x1", false, {}},
  };
  for (const Case& tt : tests) {
    absl::StatusOr<Tile> tile = ParseTilePath(tt.path);
    ASSERT_EQ(tile.ok(), tt.ok) << tt.path;
    if (tt.ok) {
      EXPECT_EQ(*tile, tt.tile) << tt.path;
      EXPECT_EQ(TilePath(*tile), tt.path);
    }
  }
}

TEST(TilePathTest, ErrorMessage) {
  EXPECT_EQ(ParseTilePath("tile/3/5/123/456/078").status().message(),
            "malformed tile path \"tile/3/5/123/456/078\"");
}

TEST(TilePathTest, RoundTrip) {
  for (int h : {1, 8, 30}) {
    for (int64_t n : {int64_t{0}, int64_t{999}, int64_t{1000}, int64_t{123456789}}) {
      for (int64_t l : {int64_t{-1}, int64_t{0}, int64_t{3}}) {
        for (int w : {1, (1 << h) - 1, 1 << h}) {
          if (w < 1) continue;
          const Tile t{h, l, n, w};
          absl::StatusOr<Tile> parsed = ParseTilePath(TilePath(t));
          ASSERT_TRUE(parsed.ok()) << TilePath(t);
          EXPECT_EQ(*parsed, t);
        }
      }
    }
  }
}

}  // namespace
}  // namespace modgate::goproxy
