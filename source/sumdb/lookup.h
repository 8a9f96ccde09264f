#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "source/goproxy/tile_path.h"
#include "source/sumdb/note.h"
#include "source/sumdb/tlog.h"

// Checking a checksum database's answer for one module version, in the
// order the go command does (golang.org/x/mod/sumdb/client.go): the lookup's
// tree head is signed by the configured key, the record is proven in that
// tree by hashes from tiles, and the record's go.sum lines give the hash.
// Pure: the caller fetches the lookup and the tiles this names.
namespace modgate::sumdb {

// The tile height the go command and sum.golang.org use.
inline constexpr int kTileHeight = 8;

// A lookup answer whose tree head's signature verified.
struct VerifiedLookup {
  Record record;
  Tree tree;
};

// Parses a /lookup/<module>@<version> answer and opens its tree note.
absl::StatusOr<VerifiedLookup> OpenLookup(std::string_view body, const NoteVerifier& verifier);

// Paths ("tile/8/0/000.p/46") of the tiles whose hashes prove record `id`
// in a log of `tree_size` records, each once.
std::vector<std::string> ProofTiles(int64_t tree_size, int64_t id);

// Paths of every tile the go command reads to verify record `id` in a log
// of `tree_size` records (tlog.TileHashReader): the tiles of the tree's
// root, and the proof's tiles with the parent tiles that authenticate
// them. A superset of ProofTiles: what a GOPROXY tree must hold for the go
// command to verify the module offline.
std::vector<std::string> GoCommandTiles(int64_t tree_size, int64_t id);

// Proves the lookup's record in its tree from `tiles` (path -> data; every
// path ProofTiles named). The proof is checked against the signed root,
// so a lying tile fails here, whatever it holds.
absl::Status CheckLookupProof(const VerifiedLookup& lookup,
                              const absl::flat_hash_map<std::string, std::string>& tiles);

// The go.sum hash the record gives for the module's zip ("<module>
// <version> h1:...") or, with `go_mod`, its go.mod ("<module>
// <version>/go.mod h1:..."). Error if the record has no such line (it is
// about another module).
absl::StatusOr<std::string> GoSumHash(std::string_view record_text, std::string_view module,
                                      std::string_view version, bool go_mod);

}  // namespace modgate::sumdb
