#include "source/common/http/byte_range.h"

#include "gtest/gtest.h"

namespace modgate::http {
namespace {

using Kind = ByteRange::Kind;

void expectRange(std::string_view header, uint64_t size, uint64_t first, uint64_t length) {
  ByteRange range = parseRange(header, size);
  EXPECT_EQ(range.kind, Kind::kSatisfiable) << header;
  EXPECT_EQ(range.first, first) << header;
  EXPECT_EQ(range.length, length) << header;
}

TEST(ByteRangeTest, SingleRanges) {
  expectRange("bytes=0-99", 1000, 0, 100);
  expectRange("bytes=100-", 1000, 100, 900);
  expectRange("bytes=-10", 1000, 990, 10);
  expectRange("bytes=999-999", 1000, 999, 1);
  expectRange(" bytes = 5 - 9 ", 1000, 5, 5);
  expectRange("BYTES=1-2", 1000, 1, 2);
}

TEST(ByteRangeTest, CutToTheEnd) {
  expectRange("bytes=900-5000", 1000, 900, 100);
  expectRange("bytes=-5000", 1000, 0, 1000);
}

TEST(ByteRangeTest, Unsatisfiable) {
  EXPECT_EQ(parseRange("bytes=1000-", 1000).kind, Kind::kUnsatisfiable);
  EXPECT_EQ(parseRange("bytes=2000-3000", 1000).kind, Kind::kUnsatisfiable);
  EXPECT_EQ(parseRange("bytes=-0", 1000).kind, Kind::kUnsatisfiable);
  EXPECT_EQ(parseRange("bytes=0-", 0).kind, Kind::kUnsatisfiable);
  EXPECT_EQ(parseRange("bytes=-5", 0).kind, Kind::kUnsatisfiable);
}

TEST(ByteRangeTest, IgnoredAsksForEverything) {
  // Several ranges, other units, nonsense: the whole body (200).
  for (std::string_view header :
       {"bytes=0-1,5-6", "items=0-1", "bytes=5-1", "bytes=", "bytes=-", "bytes=a-b", "bytes 0-1",
        "bytes=+1-2", "bytes=99999999999999999999-", "", "bytes=1-2-3"}) {
    EXPECT_EQ(parseRange(header, 1000).kind, Kind::kIgnore) << header;
  }
}

}  // namespace
}  // namespace modgate::http
