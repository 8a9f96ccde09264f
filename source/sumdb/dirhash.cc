#include "source/sumdb/dirhash.h"

#include <algorithm>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace modgate::sumdb {

absl::StatusOr<std::string> Hash1(std::vector<FileDigest> files) {
  // Byte order, as Go's sort of strings.
  std::sort(files.begin(), files.end(),
            [](const FileDigest& a, const FileDigest& b) { return a.name < b.name; });
  Sha256 summary;
  for (const FileDigest& file : files) {
    if (file.name.find('\n') != std::string::npos) {
      return absl::InvalidArgumentError("dirhash: filenames with newlines are not supported");
    }
    summary.update(absl::StrCat(crypto::toHex(file.digest), "  ", file.name, "\n"));
  }
  const Sha256Digest sum = summary.finish();
  return absl::StrCat("h1:", Base64Encode(sum.data(), sum.size()));
}

std::string GoModHash(const Sha256Digest& content_digest) {
  return *Hash1({FileDigest{"go.mod", content_digest}});
}

}  // namespace modgate::sumdb
