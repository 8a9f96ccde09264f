#include "source/sumdb/lookup.h"

#include <dirent.h>

#include <random>
#include <sstream>

#include "gtest/gtest.h"
#include "source/goproxy/module_path.h"
#include "test/sumdb/fixture.h"

namespace modgate::sumdb {
namespace {

using testing::fixtureOrigin;
using testing::kFixtureKey;
using testing::readFile;

std::string dbDir() { return fixtureOrigin() + "/sumdb/sum.fixtures.test"; }

NoteVerifier fixtureVerifier() { return *NoteVerifier::Parse(kFixtureKey); }

TEST(NoteVerifierTest, ParsesGoKeys) {
  auto v = NoteVerifier::Parse(kFixtureKey);
  ASSERT_TRUE(v.ok()) << v.status();
  EXPECT_EQ(v->name(), "sum.fixtures.test");
  EXPECT_EQ(v->keyHash(), 0xa733dd48u);
  EXPECT_TRUE(
      NoteVerifier::Parse("sum.golang.org+033de0ae+Ac4zctda0e5eza+HJyk9SxEdh+s3Ux18htTTAD8OuAn8")
          .ok());
}

TEST(NoteVerifierTest, RejectsBadKeys) {
  for (const char* bad : {
           "", "sum.fixtures.test", "sum.fixtures.test+a733dd48",
           "sum.fixtures.test+a733dd49+AY9Q8ECTLcaRVtzVsWvVXm5cCGZQmET8PcGu0AS+E5Gw",  // hash
           "other.name+a733dd48+AY9Q8ECTLcaRVtzVsWvVXm5cCGZQmET8PcGu0AS+E5Gw",         // name
           "sum.fixtures.test+a733dd4+AY9Q8ECTLcaRVtzVsWvVXm5cCGZQmET8PcGu0AS+E5Gw",
           "sum.fixtures.test+a733dd48+AY9Q8ECTLcaRVtzVsWvVXm5cCGZQmET8PcGu0AS+E5G",  // base64
       }) {
    auto v = NoteVerifier::Parse(bad);
    EXPECT_FALSE(v.ok()) << bad;
    if (!v.ok()) EXPECT_NE(v.status().message().find("malformed verifier key"), std::string::npos);
  }
}

TEST(NoteTest, OpensTheSignedTreeHead) {
  SKIP_WITHOUT_FIXTURE();
  const std::string latest = readFile(dbDir() + "/latest");
  auto text = OpenNote(latest, fixtureVerifier());
  ASSERT_TRUE(text.ok()) << text.status();
  auto tree = ParseTree(*text);
  ASSERT_TRUE(tree.ok()) << tree.status();
  EXPECT_EQ(tree->n, 46);
}

TEST(NoteTest, RejectsTamperingAndOtherKeys) {
  SKIP_WITHOUT_FIXTURE();
  const std::string latest = readFile(dbDir() + "/latest");
  std::string tampered = latest;
  tampered.replace(tampered.find("\n46\n"), 4, "\n47\n");
  auto opened = OpenNote(tampered, fixtureVerifier());
  ASSERT_FALSE(opened.ok());
  EXPECT_NE(opened.status().message().find("invalid signature"), std::string::npos);
  // Signed by a key we were not given: not verified.
  auto other =
      NoteVerifier::Parse("sum.golang.org+033de0ae+Ac4zctda0e5eza+HJyk9SxEdh+s3Ux18htTTAD8OuAn8");
  EXPECT_FALSE(OpenNote(latest, *other).ok());
  EXPECT_FALSE(OpenNote(latest.substr(0, latest.size() - 1), fixtureVerifier()).ok());
  EXPECT_FALSE(OpenNote("no signatures\n\n", fixtureVerifier()).ok());
  EXPECT_FALSE(OpenNote(std::string("a\x01\n\n") + latest, fixtureVerifier()).ok());
}

absl::flat_hash_map<std::string, std::string> fixtureTiles(const std::vector<std::string>& paths) {
  absl::flat_hash_map<std::string, std::string> tiles;
  for (const std::string& path : paths) tiles[path] = readFile(dbDir() + "/" + path);
  return tiles;
}

// Every lookup answer of the fixture: signed, proven from the published
// tiles, and giving the same hashes as go.sum.
TEST(LookupTest, EveryFixtureLookupIsProven) {
  SKIP_WITHOUT_FIXTURE();
  std::istringstream go_sum(readFile(fixtureOrigin() + "/go.sum"));
  std::string module, version, hash;
  int checked = 0;
  while (go_sum >> module >> version >> hash) {
    const bool go_mod = version.size() > 7 && version.substr(version.size() - 7) == "/go.mod";
    if (go_mod) version.resize(version.size() - 7);
    const std::string body = readFile(dbDir() + "/lookup/" + *goproxy::EscapePath(module) + "@" +
                                      *goproxy::EscapeVersion(version));
    auto lookup = OpenLookup(body, fixtureVerifier());
    ASSERT_TRUE(lookup.ok()) << module << ": " << lookup.status();
    EXPECT_EQ(lookup->tree.n, 46);
    const std::vector<std::string> paths = ProofTiles(lookup->tree.n, lookup->record.id);
    EXPECT_EQ(paths, std::vector<std::string>{"tile/8/0/000.p/46"});
    EXPECT_TRUE(CheckLookupProof(*lookup, fixtureTiles(paths)).ok()) << module;
    EXPECT_EQ(GoSumHash(lookup->record.text, module, version, go_mod).value_or(""), hash);
    ++checked;
  }
  EXPECT_EQ(checked, 92);
}

TEST(LookupTest, ALyingTileOrRecordFailsTheProof) {
  SKIP_WITHOUT_FIXTURE();
  const std::string body = readFile(dbDir() + "/lookup/github.com/pkg/errors@v0.9.1");
  auto lookup = OpenLookup(body, fixtureVerifier());
  ASSERT_TRUE(lookup.ok());
  auto tiles = fixtureTiles(ProofTiles(lookup->tree.n, lookup->record.id));
  ASSERT_TRUE(CheckLookupProof(*lookup, tiles).ok());
  // A change to any hash the proof is built from (record 28's own leaf is
  // not one: its hash comes from the lookup's text).
  for (size_t at : {size_t{0}, size_t{32 * 29}, size_t{32 * 45 + 31}}) {
    auto bad = tiles;
    bad.begin()->second[at] ^= 1;
    EXPECT_FALSE(CheckLookupProof(*lookup, bad).ok()) << at;
  }
  auto short_tile = tiles;
  short_tile.begin()->second.resize(32 * 45);
  EXPECT_FALSE(CheckLookupProof(*lookup, short_tile).ok());
  EXPECT_FALSE(CheckLookupProof(*lookup, {}).ok());
  // A record text that is not the one in the tree (another hash), under a
  // validly signed tree head.
  VerifiedLookup forged = *lookup;
  forged.record.text.replace(forged.record.text.find("h1:hO"), 5, "h1:xx");
  EXPECT_FALSE(CheckLookupProof(forged, tiles).ok());
  VerifiedLookup moved = *lookup;
  moved.record.id = 27;
  EXPECT_FALSE(CheckLookupProof(moved, tiles).ok());
}

TEST(LookupTest, MalformedAnswers) {
  SKIP_WITHOUT_FIXTURE();
  const std::string body = readFile(dbDir() + "/lookup/github.com/pkg/errors@v0.9.1");
  EXPECT_FALSE(OpenLookup("", fixtureVerifier()).ok());
  EXPECT_FALSE(OpenLookup("28\n", fixtureVerifier()).ok());
  EXPECT_FALSE(OpenLookup("x" + body, fixtureVerifier()).ok());
  EXPECT_FALSE(OpenLookup(body.substr(0, body.size() - 2), fixtureVerifier()).ok());
  // An id past the tree's end.
  std::string past = body;
  past.replace(0, 2, "99");
  EXPECT_FALSE(OpenLookup(past, fixtureVerifier()).ok());
  EXPECT_FALSE(
      GoSumHash("github.com/pkg/errors v0.9.1 h1:x=\n", "github.com/pkg/errors", "v0.9.2", false)
          .ok());
}

// A log far larger than the fixture's, built here level by level, so that
// proofs cross tile levels (3 levels of height 8) and partial tiles.
class SyntheticLog {
 public:
  explicit SyntheticLog(int64_t n) {
    levels_.emplace_back();
    for (int64_t i = 0; i < n; ++i) levels_[0].push_back(RecordHash("record " + std::to_string(i)));
    while (levels_.back().size() > 1) {
      const auto& below = levels_.back();
      std::vector<Hash> above;
      for (size_t i = 0; i + 1 < below.size(); i += 2)
        above.push_back(NodeHash(below[i], below[i + 1]));
      levels_.push_back(std::move(above));
    }
  }
  absl::StatusOr<std::vector<Hash>> read(const std::vector<int64_t>& indexes) const {
    std::vector<Hash> out;
    for (int64_t index : indexes) {
      int level;
      int64_t n;
      SplitStoredHashIndex(index, level, n);
      out.push_back(levels_.at(level).at(n));
    }
    return out;
  }
  // What a server publishes for `path`.
  std::string tile(const goproxy::Tile& t) const {
    std::string data;
    for (int i = 0; i < t.w; ++i) {
      const Hash& h = levels_.at(t.l * t.h).at((t.n << t.h) + i);
      data.append(reinterpret_cast<const char*>(h.data()), h.size());
    }
    return data;
  }

 private:
  std::vector<std::vector<Hash>> levels_;
};

TEST(TlogTest, StoredHashIndexRoundTrips) {
  for (int level = 0; level < 10; ++level) {
    for (int64_t n = 0; n < 300; ++n) {
      int l;
      int64_t m;
      SplitStoredHashIndex(StoredHashIndex(level, n), l, m);
      EXPECT_EQ(l, level);
      EXPECT_EQ(m, n);
    }
  }
  EXPECT_EQ(StoredHashIndex(0, 0), 0);
  EXPECT_EQ(StoredHashIndex(0, 1), 1);
  EXPECT_EQ(StoredHashIndex(1, 0), 2);
  EXPECT_EQ(StoredHashIndex(0, 2), 3);
}

TEST(TlogTest, ProofsAcrossTileLevels) {
  const int64_t n = 70001;  // 2^16 < n: a level-2 tile exists
  SyntheticLog log(n);
  auto reader = [&](const std::vector<int64_t>& indexes) { return log.read(indexes); };
  auto root = TreeHash(n, reader);
  ASSERT_TRUE(root.ok());
  std::mt19937_64 random(7);
  for (int64_t id : {int64_t{0}, int64_t{255}, int64_t{256}, int64_t{65535}, int64_t{65536}, n - 1,
                     static_cast<int64_t>(random() % n), static_cast<int64_t>(random() % n)}) {
    VerifiedLookup lookup;
    lookup.record.id = id;
    lookup.record.text = "record " + std::to_string(id);
    lookup.tree = Tree{n, *root};
    absl::flat_hash_map<std::string, std::string> tiles;
    for (const std::string& path : ProofTiles(n, id)) {
      auto tile = goproxy::ParseTilePath(path);
      ASSERT_TRUE(tile.ok()) << path;
      tiles[path] = log.tile(*tile);
    }
    EXPECT_TRUE(CheckLookupProof(lookup, tiles).ok()) << id;
    lookup.record.text += "x";
    EXPECT_FALSE(CheckLookupProof(lookup, tiles).ok()) << id;
  }
}

// What the go command reads (tlog.TileHashReader): the root's tiles, the
// proof's tiles, and the parents that authenticate full tiles.
TEST(TlogTest, GoCommandTilesCoverTheRootTheProofAndParents) {
  EXPECT_EQ(GoCommandTiles(46, 28), std::vector<std::string>{"tile/8/0/000.p/46"});
  const int64_t n = 70001;
  SyntheticLog log(n);
  auto root = TreeHash(n, [&](const std::vector<int64_t>& x) { return log.read(x); });
  ASSERT_TRUE(root.ok());
  for (int64_t id : {int64_t{0}, int64_t{256}, int64_t{65536}, n - 1}) {
    const std::vector<std::string> paths = GoCommandTiles(n, id);
    absl::flat_hash_map<std::string, std::string> tiles;
    for (const std::string& path : paths) {
      auto tile = goproxy::ParseTilePath(path);
      ASSERT_TRUE(tile.ok()) << path;
      EXPECT_TRUE(tiles.emplace(path, log.tile(*tile)).second) << "twice: " << path;
      // A full tile below the top has its parent in the set.
      if (tile->w == 256 && tile->l < 2) {
        goproxy::Tile parent = *tile;
        parent.l += 1;
        parent.n >>= 8;
        parent = TileInTree(parent, n);
        if (parent.w > 0) {
          EXPECT_NE(std::find(paths.begin(), paths.end(), goproxy::TilePath(parent)), paths.end())
              << path << " without " << goproxy::TilePath(parent);
        }
      }
    }
    for (const std::string& path : ProofTiles(n, id)) EXPECT_TRUE(tiles.contains(path)) << path;
    // The root comes out of these tiles alone.
    HashReader from_tiles =
        [&](const std::vector<int64_t>& indexes) -> absl::StatusOr<std::vector<Hash>> {
      std::vector<Hash> hashes;
      for (int64_t index : indexes) {
        const goproxy::Tile tile = TileInTree(TileForIndex(kTileHeight, index), n);
        auto it = tiles.find(goproxy::TilePath(tile));
        if (it == tiles.end()) return absl::NotFoundError(goproxy::TilePath(tile));
        auto hash = HashFromTile(tile, it->second, index);
        if (!hash.ok()) return hash.status();
        hashes.push_back(*hash);
      }
      return hashes;
    };
    auto from = TreeHash(n, from_tiles);
    ASSERT_TRUE(from.ok()) << id << ": " << from.status();
    EXPECT_EQ(*from, *root) << id;
  }
}

}  // namespace
}  // namespace modgate::sumdb
