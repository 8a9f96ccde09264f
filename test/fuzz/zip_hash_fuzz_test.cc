// The zip hasher (minizip) on arbitrary bytes, as an upstream may send any.
#include <string_view>

#include "source/sumdb/zip_hash.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  modgate::sumdb::ZipLimits limits;
  // Small bounds keep each run fast; the code paths are the same.
  limits.max_uncompressed_bytes = 4 << 20;
  limits.max_entries = 1000;
  (void)modgate::sumdb::HashZipBytes(std::string_view(reinterpret_cast<const char*>(data), size),
                                     limits);
  return 0;
}
