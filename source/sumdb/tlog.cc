#include "source/sumdb/tlog.h"

#include <bit>
#include <cstring>

#include "absl/status/status.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

namespace modgate::sumdb {
namespace {

constexpr size_t kHashSize = 32;

absl::Status badMath(std::string_view where) {
  return absl::InternalError(absl::StrCat("tlog: bad math in ", std::string(where)));
}

// Largest power of two strictly below n, and its log2 (n > 1).
int64_t maxpow2(int64_t n, int& level) {
  level = 0;
  while ((int64_t{1} << (level + 1)) < n) ++level;
  return int64_t{1} << level;
}

void subTreeIndex(int64_t lo, int64_t hi, std::vector<int64_t>& need) {
  while (lo < hi) {
    int level;
    const int64_t k = maxpow2(hi - lo + 1, level);
    need.push_back(StoredHashIndex(level, lo >> level));
    lo += k;
  }
}

// Combines the hashes subTreeIndex asked for; consumes them from `next`.
absl::StatusOr<Hash> subTreeHash(int64_t lo, int64_t hi, const std::vector<Hash>& hashes,
                                 size_t& next) {
  size_t count = 0;
  while (lo < hi) {
    int level;
    lo += maxpow2(hi - lo + 1, level);
    ++count;
  }
  if (count == 0 || next + count > hashes.size()) return badMath("subTreeHash");
  Hash h = hashes[next + count - 1];
  for (size_t i = count - 1; i-- > 0;) h = NodeHash(hashes[next + i], h);
  next += count;
  return h;
}

void leafProofIndex(int64_t lo, int64_t hi, int64_t n, std::vector<int64_t>& need) {
  if (lo + 1 == hi) return;
  int level;
  const int64_t k = maxpow2(hi - lo, level);
  if (n < lo + k) {
    leafProofIndex(lo, lo + k, n, need);
    subTreeIndex(lo + k, hi, need);
  } else {
    subTreeIndex(lo, lo + k, need);
    leafProofIndex(lo + k, hi, n, need);
  }
}

absl::Status leafProof(int64_t lo, int64_t hi, int64_t n, const std::vector<Hash>& hashes,
                       size_t& next, std::vector<Hash>& proof) {
  if (lo + 1 == hi) return absl::OkStatus();
  int level;
  const int64_t k = maxpow2(hi - lo, level);
  absl::StatusOr<Hash> th;
  if (n < lo + k) {
    if (auto s = leafProof(lo, lo + k, n, hashes, next, proof); !s.ok()) return s;
    th = subTreeHash(lo + k, hi, hashes, next);
  } else {
    th = subTreeHash(lo, lo + k, hashes, next);
    if (!th.ok()) return th.status();
    if (auto s = leafProof(lo + k, hi, n, hashes, next, proof); !s.ok()) return s;
  }
  if (!th.ok()) return th.status();
  proof.push_back(*th);
  return absl::OkStatus();
}

absl::StatusOr<Hash> runRecordProof(const std::vector<Hash>& p, size_t len, int64_t lo, int64_t hi,
                                    int64_t n, const Hash& leaf) {
  const absl::Status failed = absl::InvalidArgumentError("invalid transparency proof");
  if (lo + 1 == hi) {
    if (len != 0) return failed;
    return leaf;
  }
  if (len == 0) return failed;
  int level;
  const int64_t k = maxpow2(hi - lo, level);
  if (n < lo + k) {
    auto th = runRecordProof(p, len - 1, lo, lo + k, n, leaf);
    if (!th.ok()) return th;
    return NodeHash(*th, p[len - 1]);
  }
  auto th = runRecordProof(p, len - 1, lo + k, hi, n, leaf);
  if (!th.ok()) return th;
  return NodeHash(p[len - 1], *th);
}

Hash tileHash(std::string_view data) {
  if (data.size() == kHashSize) {
    Hash h;
    std::memcpy(h.data(), data.data(), kHashSize);
    return h;
  }
  const size_t half = data.size() / 2;
  return NodeHash(tileHash(data.substr(0, half)), tileHash(data.substr(half)));
}

// tileForIndex with the byte range of the index's hash inside the tile data.
goproxy::Tile tileForIndex(int h, int64_t index, size_t& start, size_t& end) {
  int level;
  int64_t n;
  SplitStoredHashIndex(index, level, n);
  goproxy::Tile t;
  t.h = h;
  t.l = level / h;
  level -= static_cast<int>(t.l) * h;
  t.n = (n << level) >> t.h;
  n -= (t.n << t.h) >> level;
  t.w = static_cast<int>((n + 1) << level);
  start = static_cast<size_t>(n << level) * kHashSize;
  end = static_cast<size_t>((n + 1) << level) * kHashSize;
  return t;
}

}  // namespace

Hash RecordHash(std::string_view data) {
  Sha256 sha;
  const uint8_t prefix = 0x00;
  sha.update(&prefix, 1);
  sha.update(data);
  return sha.finish();
}

Hash NodeHash(const Hash& left, const Hash& right) {
  uint8_t buf[1 + 2 * kHashSize];
  buf[0] = 0x01;
  std::memcpy(buf + 1, left.data(), kHashSize);
  std::memcpy(buf + 1 + kHashSize, right.data(), kHashSize);
  return Sha256::hash(std::string_view(reinterpret_cast<const char*>(buf), sizeof(buf)));
}

int64_t StoredHashIndex(int level, int64_t n) {
  // Records before n at level 0, then the hashes stored with the n-th.
  for (int l = level; l > 0; --l) n = 2 * n + 1;
  int64_t i = 0;
  for (; n > 0; n >>= 1) i += n;
  return i + level;
}

void SplitStoredHashIndex(int64_t index, int& level, int64_t& n) {
  // Estimate n from the index (at least index/2 level-0 hashes precede
  // it), then walk forward.
  n = index / 2;
  int64_t index_n = StoredHashIndex(0, n);
  while (true) {
    const int64_t x = index_n + 1 + std::countr_zero(static_cast<uint64_t>(n + 1));
    if (x > index) break;
    ++n;
    index_n = x;
  }
  level = static_cast<int>(index - index_n);
  n >>= level;
}

goproxy::Tile TileForIndex(int h, int64_t index) {
  size_t start, end;
  return tileForIndex(h, index, start, end);
}

goproxy::Tile TileInTree(goproxy::Tile tile, int64_t tree_size) {
  tile.w = 1 << tile.h;
  const int64_t max = tree_size >> (tile.l * tile.h);
  if ((tile.n << tile.h) + tile.w >= max) {
    if ((tile.n << tile.h) >= max) {
      tile.w = 0;
      return tile;
    }
    tile.w = static_cast<int>(max - (tile.n << tile.h));
  }
  return tile;
}

absl::StatusOr<Hash> HashFromTile(const goproxy::Tile& tile, std::string_view data, int64_t index) {
  if (tile.h < 1 || tile.h > 30 || tile.l < 0 || tile.l >= 64 || tile.w < 1 ||
      tile.w > (1 << tile.h)) {
    return absl::InvalidArgumentError(absl::StrCat("invalid tile ", goproxy::TilePath(tile)));
  }
  if (data.size() < static_cast<size_t>(tile.w) * kHashSize) {
    return absl::InvalidArgumentError(
        absl::StrCat("data len ", data.size(), " too short for tile ", goproxy::TilePath(tile)));
  }
  size_t start, end;
  const goproxy::Tile t1 = tileForIndex(tile.h, index, start, end);
  if (tile.l != t1.l || tile.n != t1.n || tile.w < t1.w) {
    return absl::InvalidArgumentError(absl::StrCat(
        "index ", index, " is in ", goproxy::TilePath(t1), " not ", goproxy::TilePath(tile)));
  }
  return tileHash(data.substr(start, end - start));
}

std::vector<int64_t> TreeHashIndexes(int64_t n) {
  std::vector<int64_t> need;
  subTreeIndex(0, n, need);
  return need;
}

std::vector<int64_t> RecordProofIndexes(int64_t t, int64_t n) {
  std::vector<int64_t> need;
  if (t < 0 || n < 0 || n >= t) return need;
  leafProofIndex(0, t, n, need);
  return need;
}

absl::StatusOr<std::vector<Hash>> ProveRecord(int64_t t, int64_t n, const HashReader& reader) {
  if (t < 0 || n < 0 || n >= t) {
    return absl::InvalidArgumentError("tlog: invalid inputs in ProveRecord");
  }
  const std::vector<int64_t> indexes = RecordProofIndexes(t, n);
  std::vector<Hash> proof;
  if (indexes.empty()) return proof;
  auto hashes = reader(indexes);
  if (!hashes.ok()) return hashes.status();
  if (hashes->size() != indexes.size()) {
    return absl::InternalError(absl::StrCat("tlog: ReadHashes(", indexes.size(),
                                            " indexes) = ", hashes->size(), " hashes"));
  }
  size_t next = 0;
  if (auto s = leafProof(0, t, n, *hashes, next, proof); !s.ok()) return s;
  if (next != hashes->size()) return badMath("ProveRecord");
  return proof;
}

absl::Status CheckRecord(const std::vector<Hash>& proof, int64_t t, const Hash& root, int64_t n,
                         const Hash& h) {
  if (t < 0 || n < 0 || n >= t) {
    return absl::InvalidArgumentError("tlog: invalid inputs in CheckRecord");
  }
  // A proof is at most one hash per level of a 2^63 tree.
  if (proof.size() > 64) return absl::InvalidArgumentError("invalid transparency proof");
  auto computed = runRecordProof(proof, proof.size(), 0, t, n, h);
  if (!computed.ok()) return computed.status();
  if (*computed != root) return absl::InvalidArgumentError("invalid transparency proof");
  return absl::OkStatus();
}

absl::StatusOr<Hash> TreeHash(int64_t n, const HashReader& reader) {
  if (n == 0) return Sha256::hash("");
  std::vector<int64_t> indexes;
  subTreeIndex(0, n, indexes);
  auto hashes = reader(indexes);
  if (!hashes.ok()) return hashes.status();
  if (hashes->size() != indexes.size()) return badMath("TreeHash");
  size_t next = 0;
  return subTreeHash(0, n, *hashes, next);
}

absl::StatusOr<Tree> ParseTree(std::string_view text) {
  const absl::Status malformed = absl::InvalidArgumentError("malformed tree note");
  constexpr std::string_view kPrefix = "go.sum database tree\n";
  if (text.substr(0, kPrefix.size()) != kPrefix || text.size() > 1000000) return malformed;
  std::vector<std::string> lines =
      absl::StrSplit(absl::string_view(text.data(), text.size()), absl::MaxSplits('\n', 3));
  if (lines.size() < 4) return malformed;
  Tree tree;
  if (!absl::SimpleAtoi(lines[1], &tree.n) || tree.n < 0 || lines[1] != absl::StrCat(tree.n)) {
    return malformed;
  }
  auto hash = Base64Decode(lines[2]);
  if (!hash.has_value() || hash->size() != kHashSize) return malformed;
  std::memcpy(tree.hash.data(), hash->data(), kHashSize);
  return tree;
}

absl::StatusOr<Record> ParseRecord(std::string_view msg) {
  const absl::Status malformed = absl::InvalidArgumentError("malformed record data");
  const size_t newline = msg.find('\n');
  if (newline == std::string_view::npos) return malformed;
  Record record;
  const std::string_view id = msg.substr(0, newline);
  if (!absl::SimpleAtoi(absl::string_view(id.data(), id.size()), &record.id) || record.id < 0 ||
      id != absl::StrCat(record.id)) {
    return malformed;
  }
  msg.remove_prefix(newline + 1);
  const size_t blank = msg.find("\n\n");
  if (blank == std::string_view::npos) return malformed;
  record.text = std::string(msg.substr(0, blank + 1));
  record.note = std::string(msg.substr(blank + 2));
  // tlog.isValidRecordText: printable ASCII lines (no control bytes but \n).
  for (unsigned char c : record.text) {
    if ((c < 0x20 && c != '\n') || c >= 0x7f) return malformed;
  }
  return record;
}

}  // namespace modgate::sumdb
