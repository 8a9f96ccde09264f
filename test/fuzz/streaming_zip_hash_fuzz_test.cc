// The streaming zip hasher on arbitrary bytes, cut into arbitrary chunks,
// checked against the whole-zip hasher: whenever the stream's answer is
// used it must be exactly HashZipBytes's.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "source/sumdb/streaming_zip_hash.h"
#include "source/sumdb/zip_hash.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  modgate::sumdb::ZipLimits limits;
  // Small bounds keep each run fast; the code paths are the same.
  limits.max_uncompressed_bytes = 4 << 20;
  limits.max_entries = 1000;
  const std::string_view zip(reinterpret_cast<const char*>(data), size);
  modgate::sumdb::StreamingZipHasher hasher(limits);
  // Chunk sizes from the input's size, so each input is cut the same way
  // every run, and inputs of different sizes are cut differently.
  uint32_t state = static_cast<uint32_t>(size) * 2654435761u + 1;
  size_t at = 0;
  while (at < zip.size()) {
    state = state * 1664525u + 1013904223u;
    const size_t chunk = (state >> 16) % 3 == 0 ? 1 : 1 + (state >> 8) % 5000;
    const size_t take = chunk < zip.size() - at ? chunk : zip.size() - at;
    hasher.update(zip.substr(at, take));
    at += take;
  }
  const std::optional<std::string> streamed = hasher.finishBytes(zip);
  if (!streamed.has_value()) return 0;
  const absl::StatusOr<std::string> whole = modgate::sumdb::HashZipBytes(zip, limits);
  if (!whole.ok() || *whole != *streamed) std::abort();
  return 0;
}
