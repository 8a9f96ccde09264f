#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "source/sumdb/digest.h"

// The go.sum hash of module content: dirhash.Hash1 from
// golang.org/x/mod/sumdb/dirhash. A summary line "<sha256 hex>  <name>\n"
// per file, sorted by name, and "h1:" + base64(sha256(summary)).
namespace modgate::sumdb {

struct FileDigest {
  std::string name;
  Sha256Digest digest;
};

// Hash1 over `files` (sorted here). Error if a name holds a newline, as in
// Go (the summary could then be forged).
absl::StatusOr<std::string> Hash1(std::vector<FileDigest> files);

// The go.sum hash of a go.mod (the "<module> <version>/go.mod h1:..." line):
// Hash1 of the single file "go.mod". Takes the SHA-256 of the content, so a
// streamed .mod is hashed as it passes through.
std::string GoModHash(const Sha256Digest& content_digest);
inline std::string GoModHash(std::string_view content) { return GoModHash(Sha256::hash(content)); }

}  // namespace modgate::sumdb
