// Checksum database answers: lookups (record, signed note, tree), tile
// paths, and proofs over tile data, all of it attacker-controlled when an
// upstream lies.
#include <string>
#include <string_view>

#include "source/goproxy/tile_path.h"
#include "source/sumdb/lookup.h"
#include "source/sumdb/note.h"
#include "source/sumdb/tlog.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const modgate::sumdb::NoteVerifier verifier = *modgate::sumdb::NoteVerifier::Parse(
      "sum.fixtures.test+a733dd48+AY9Q8ECTLcaRVtzVsWvVXm5cCGZQmET8PcGu0AS+E5Gw");
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  (void)modgate::sumdb::NoteVerifier::Parse(input);
  (void)modgate::sumdb::OpenNote(input, verifier);
  (void)modgate::sumdb::ParseTree(input);
  (void)modgate::goproxy::ParseTilePath(input);
  auto record = modgate::sumdb::ParseRecord(input);
  if (record.ok()) {
    (void)modgate::sumdb::GoSumHash(record->text, "github.com/pkg/errors", "v0.9.1", false);
    // A lookup as if its note had verified, proven against tiles made of
    // the rest of the input: must fail or succeed, never crash.
    modgate::sumdb::VerifiedLookup lookup;
    lookup.record = *record;
    auto tree = modgate::sumdb::ParseTree(record->note);
    lookup.tree = tree.ok() ? *tree : modgate::sumdb::Tree{record->id + 1, {}};
    if (lookup.tree.n > lookup.record.id && lookup.tree.n < (int64_t{1} << 40)) {
      absl::flat_hash_map<std::string, std::string> tiles;
      for (const std::string& path : modgate::sumdb::ProofTiles(lookup.tree.n, lookup.record.id)) {
        tiles[path] = record->note;
      }
      (void)modgate::sumdb::CheckLookupProof(lookup, tiles);
    }
  }
  (void)modgate::sumdb::OpenLookup(input, verifier);
  return 0;
}
