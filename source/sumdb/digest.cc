#include "source/sumdb/digest.h"

#include "source/common/tls/boringssl.h"

namespace modgate::sumdb {

std::string Base64Encode(const void* data, size_t size) {
  size_t encoded = 0;
  EVP_EncodedLength(&encoded, size);
  std::string out(encoded, '\0');
  const size_t written = EVP_EncodeBlock(reinterpret_cast<uint8_t*>(out.data()),
                                         static_cast<const uint8_t*>(data), size);
  out.resize(written);
  return out;
}

std::optional<std::string> Base64Decode(std::string_view text) {
  // EVP_DecodeBase64 wants whole 4-character groups and rejects anything
  // outside the alphabet; Go's StdEncoding is the same (padding required).
  if (text.size() % 4 != 0) return std::nullopt;
  size_t max = 0;
  if (!EVP_DecodedLength(&max, text.size())) return std::nullopt;
  std::string out(max, '\0');
  size_t written = 0;
  if (!EVP_DecodeBase64(reinterpret_cast<uint8_t*>(out.data()), &written, max,
                        reinterpret_cast<const uint8_t*>(text.data()), text.size())) {
    return std::nullopt;
  }
  out.resize(written);
  // Go rejects non-canonical encodings (stray bits in the last group) only
  // in Strict mode, which the sumdb code does not use; re-encoding and
  // comparing keeps one spelling per value anyway.
  if (Base64Encode(out.data(), out.size()) != text) return std::nullopt;
  return out;
}

}  // namespace modgate::sumdb
