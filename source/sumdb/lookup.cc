#include "source/sumdb/lookup.h"

#include <algorithm>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

namespace modgate::sumdb {

absl::StatusOr<VerifiedLookup> OpenLookup(std::string_view body, const NoteVerifier& verifier) {
  auto record = ParseRecord(body);
  if (!record.ok()) return record.status();
  auto text = OpenNote(record->note, verifier);
  if (!text.ok()) {
    return absl::InvalidArgumentError(absl::StrCat("tree head: ", text.status().message()));
  }
  auto tree = ParseTree(*text);
  if (!tree.ok()) return tree.status();
  if (record->id >= tree->n) {
    return absl::InvalidArgumentError(
        absl::StrCat("record ", record->id, " is past the tree's end (", tree->n, " records)"));
  }
  return VerifiedLookup{*std::move(record), *tree};
}

std::vector<std::string> ProofTiles(int64_t tree_size, int64_t id) {
  std::vector<std::string> paths;
  for (int64_t index : RecordProofIndexes(tree_size, id)) {
    const goproxy::Tile tile = TileInTree(TileForIndex(kTileHeight, index), tree_size);
    if (tile.w == 0) continue;  // cannot happen for an index in the tree
    std::string path = goproxy::TilePath(tile);
    if (std::find(paths.begin(), paths.end(), path) == paths.end()) paths.push_back(path);
  }
  return paths;
}

std::vector<std::string> GoCommandTiles(int64_t tree_size, int64_t id) {
  std::vector<goproxy::Tile> tiles;
  auto known = [&](const goproxy::Tile& tile) {
    return std::find(tiles.begin(), tiles.end(), tile) != tiles.end();
  };
  for (int64_t index : TreeHashIndexes(tree_size)) {
    const goproxy::Tile tile = TileInTree(TileForIndex(kTileHeight, index), tree_size);
    if (tile.w > 0 && !known(tile)) tiles.push_back(tile);
  }
  for (int64_t index : RecordProofIndexes(tree_size, id)) {
    // Up the parents until one already read (tlog's tileParent chain).
    const goproxy::Tile base = TileForIndex(kTileHeight, index);
    for (int k = 0; base.l + k < 64; ++k) {
      goproxy::Tile parent = base;
      parent.l += k;
      parent.n >>= k * base.h;
      parent = TileInTree(parent, tree_size);
      if (parent.w == 0 || known(parent)) break;
      tiles.push_back(parent);
    }
  }
  std::vector<std::string> paths;
  paths.reserve(tiles.size());
  for (const goproxy::Tile& tile : tiles) paths.push_back(goproxy::TilePath(tile));
  return paths;
}

absl::Status CheckLookupProof(const VerifiedLookup& lookup,
                              const absl::flat_hash_map<std::string, std::string>& tiles) {
  const int64_t tree_size = lookup.tree.n;
  HashReader reader =
      [&](const std::vector<int64_t>& indexes) -> absl::StatusOr<std::vector<Hash>> {
    std::vector<Hash> hashes;
    hashes.reserve(indexes.size());
    for (int64_t index : indexes) {
      const goproxy::Tile tile = TileInTree(TileForIndex(kTileHeight, index), tree_size);
      const std::string path = goproxy::TilePath(tile);
      auto it = tiles.find(path);
      if (it == tiles.end()) return absl::NotFoundError(absl::StrCat("missing ", path));
      if (it->second.size() != static_cast<size_t>(tile.w) * 32) {
        return absl::InvalidArgumentError(
            absl::StrCat(path, " holds ", it->second.size(), " bytes, not ", tile.w * 32));
      }
      auto hash = HashFromTile(tile, it->second, index);
      if (!hash.ok()) return hash.status();
      hashes.push_back(*hash);
    }
    return hashes;
  };
  auto proof = ProveRecord(tree_size, lookup.record.id, reader);
  if (!proof.ok()) return proof.status();
  return CheckRecord(*proof, tree_size, lookup.tree.hash, lookup.record.id,
                     RecordHash(lookup.record.text));
}

absl::StatusOr<std::string> GoSumHash(std::string_view record_text, std::string_view module,
                                      std::string_view version, bool go_mod) {
  const std::string prefix =
      absl::StrCat(std::string(module), " ", std::string(version), go_mod ? "/go.mod" : "", " ");
  for (absl::string_view line :
       absl::StrSplit(absl::string_view(record_text.data(), record_text.size()), '\n')) {
    if (!absl::StartsWith(line, prefix)) continue;
    absl::string_view hash = line.substr(prefix.size());
    if (hash.substr(0, 3) == "h1:") return std::string(hash);
  }
  return absl::NotFoundError(absl::StrCat("the checksum database has no ", go_mod ? "go.mod " : "",
                                          "hash for ", std::string(module), " ",
                                          std::string(version)));
}

}  // namespace modgate::sumdb
