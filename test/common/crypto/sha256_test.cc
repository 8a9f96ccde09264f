#include "source/common/crypto/sha256.h"

#include <string>

#include "gtest/gtest.h"

namespace modgate::crypto {
namespace {

TEST(Sha256Test, FipsVectors) {
  EXPECT_EQ(toHex(Sha256::hash("abc")),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(toHex(Sha256::hash("")),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  // 448 bits: the padding needs a second block.
  EXPECT_EQ(toHex(Sha256::hash("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq")),
            "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
}

TEST(Sha256Test, MillionAs) {
  EXPECT_EQ(toHex(Sha256::hash(std::string(1000000, 'a'))),
            "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
  // The same streamed in uneven chunks, as a body arrives from a socket.
  Sha256 sha;
  std::string chunk(997, 'a');
  size_t left = 1000000;
  while (left > 0) {
    size_t take = std::min(left, chunk.size());
    sha.update(chunk.data(), take);
    left -= take;
  }
  EXPECT_EQ(toHex(sha.finish()),
            "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

TEST(Sha256Test, IncrementalMatchesOneShotAtEveryBlockBoundary) {
  std::string data;
  for (int i = 0; i < 300; ++i) data.push_back(static_cast<char>(i * 7 + 3));
  // Lengths around the 55/56/64 byte padding edges, split at every point.
  for (size_t length : {0, 1, 55, 56, 57, 63, 64, 65, 119, 120, 128, 129, 300}) {
    std::string_view message(data.data(), length);
    Sha256Digest expected = Sha256::hash(message);
    for (size_t split = 0; split <= length; ++split) {
      Sha256 sha;
      sha.update(message.substr(0, split));
      sha.update(message.substr(split));
      ASSERT_EQ(sha.finish(), expected) << "length " << length << " split " << split;
    }
  }
}

TEST(Sha256Test, ByteAtATime) {
  std::string data = "The quick brown fox jumps over the lazy dog";
  Sha256 sha;
  for (char c : data) sha.update(&c, 1);
  EXPECT_EQ(toHex(sha.finish()),
            "d7a8fbb307d7809469ca9abcb0082e4f8d5651e46d3cdb762d02d0bf37c9e592");
}

}  // namespace
}  // namespace modgate::crypto
