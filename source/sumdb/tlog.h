#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "source/goproxy/tile_path.h"
#include "source/sumdb/digest.h"

// The checksum database's transparency log: RFC 6962 record and node
// hashes, the stored-hash numbering, tiles, and record inclusion proofs, a
// port of golang.org/x/mod/sumdb/tlog (tlog.go, tile.go, note.go). Pure
// functions: the hashes a proof needs are read through a callback, so the
// caller decides where tiles come from (here: the cache, via the sumdb
// route).
namespace modgate::sumdb {

using Hash = Sha256Digest;

// A signed tree head's content: the log's size and root hash.
struct Tree {
  int64_t n = 0;
  Hash hash{};
};

// SHA-256(0x00 || data): the hash of one record (a leaf).
Hash RecordHash(std::string_view data);
// SHA-256(0x01 || left || right): an interior node.
Hash NodeHash(const Hash& left, const Hash& right);

// Index, in the log's sequence of stored hashes, of the hash of the n-th
// subtree at `level` (tlog.StoredHashIndex), and back.
int64_t StoredHashIndex(int level, int64_t n);
void SplitStoredHashIndex(int64_t index, int& level, int64_t& n);

// The tile of height `h` holding stored hash `index`, as wide as needed to
// hold it (tlog.TileForIndex).
goproxy::Tile TileForIndex(int h, int64_t index);
// `tile` widened to what a log of `tree_size` records publishes: complete
// if the log covers it, else the partial width ("000.p/46"). Width 0 if
// the log has nothing in it (tlog's tileParent with k = 0).
goproxy::Tile TileInTree(goproxy::Tile tile, int64_t tree_size);
// The stored hash `index` from a tile's data (tlog.HashFromTile): the tile
// holds the level-0 hashes of its subtree; higher ones are computed.
absl::StatusOr<Hash> HashFromTile(const goproxy::Tile& tile, std::string_view data, int64_t index);

// Reads stored hashes by index; an error aborts the proof.
using HashReader = std::function<absl::StatusOr<std::vector<Hash>>(const std::vector<int64_t>&)>;

// Stored-hash indexes a proof that record n is in a log of t records needs
// (tlog's leafProofIndex), and the proof built from their hashes.
std::vector<int64_t> RecordProofIndexes(int64_t t, int64_t n);
absl::StatusOr<std::vector<Hash>> ProveRecord(int64_t t, int64_t n, const HashReader& reader);
// Checks that `proof` shows record hash `h` as record n of the log of t
// records whose root is `root` (tlog.CheckRecord).
absl::Status CheckRecord(const std::vector<Hash>& proof, int64_t t, const Hash& root, int64_t n,
                         const Hash& h);
// Stored-hash indexes whose hashes combine into the root of a log of n
// records (tlog's subTreeIndex(0, n)).
std::vector<int64_t> TreeHashIndexes(int64_t n);
// The root of a log of n records (tlog.TreeHash).
absl::StatusOr<Hash> TreeHash(int64_t n, const HashReader& reader);

// Parses a tree head's text, "go.sum database tree\n<N>\n<base64 hash>\n..."
// (tlog.ParseTree).
absl::StatusOr<Tree> ParseTree(std::string_view text);

// A lookup answer: "<id>\n<record text>\n<signed tree note>" (tlog.ParseRecord).
struct Record {
  int64_t id = 0;
  std::string text;  // the go.sum lines, each ending in '\n'
  std::string note;  // the signed tree head that follows
};
absl::StatusOr<Record> ParseRecord(std::string_view msg);

}  // namespace modgate::sumdb
