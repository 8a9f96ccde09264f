#include "source/common/http/conditional.h"

#include "gtest/gtest.h"

namespace modgate::http {
namespace {

// Sun, 06 Nov 1994 08:49:37 GMT
constexpr int64_t kModified = 784111777;
const Validators kCurrent{"\"abc\"", kModified};

HeaderMap headers(std::initializer_list<std::pair<const char*, const char*>> fields) {
  HeaderMap map;
  for (const auto& [name, value] : fields) map.add(name, value);
  return map;
}

TEST(ConditionalTest, IfNoneMatch) {
  EXPECT_TRUE(notModified(headers({{"if-none-match", "\"abc\""}}), kCurrent));
  EXPECT_TRUE(notModified(headers({{"if-none-match", "\"x\", W/\"abc\""}}), kCurrent));
  EXPECT_TRUE(notModified(headers({{"if-none-match", "*"}}), kCurrent));
  EXPECT_FALSE(notModified(headers({{"if-none-match", "\"abd\""}}), kCurrent));
  // No ETag (an entry from before validators): only "*" matches.
  EXPECT_FALSE(notModified(headers({{"if-none-match", "\"abc\""}}), Validators{"", kModified}));
  EXPECT_TRUE(notModified(headers({{"if-none-match", "*"}}), Validators{"", kModified}));
}

TEST(ConditionalTest, IfModifiedSince) {
  EXPECT_TRUE(
      notModified(headers({{"if-modified-since", "Sun, 06 Nov 1994 08:49:37 GMT"}}), kCurrent));
  EXPECT_TRUE(
      notModified(headers({{"if-modified-since", "Mon, 07 Nov 1994 08:49:37 GMT"}}), kCurrent));
  EXPECT_FALSE(
      notModified(headers({{"if-modified-since", "Sun, 06 Nov 1994 08:49:36 GMT"}}), kCurrent));
  EXPECT_FALSE(notModified(headers({{"if-modified-since", "yesterday"}}), kCurrent));
  // If-None-Match wins over If-Modified-Since.
  EXPECT_FALSE(notModified(headers({{"if-none-match", "\"other\""},
                                    {"if-modified-since", "Mon, 07 Nov 1994 08:49:37 GMT"}}),
                           kCurrent));
  EXPECT_FALSE(notModified(headers({}), kCurrent));
}

TEST(ConditionalTest, IfRange) {
  EXPECT_TRUE(ifRangeHolds(headers({}), kCurrent));
  EXPECT_TRUE(ifRangeHolds(headers({{"if-range", "\"abc\""}}), kCurrent));
  EXPECT_FALSE(ifRangeHolds(headers({{"if-range", "\"abd\""}}), kCurrent));
  // Strong comparison: a weak tag never matches.
  EXPECT_FALSE(ifRangeHolds(headers({{"if-range", "W/\"abc\""}}), kCurrent));
  EXPECT_TRUE(ifRangeHolds(headers({{"if-range", "Sun, 06 Nov 1994 08:49:37 GMT"}}), kCurrent));
  EXPECT_FALSE(ifRangeHolds(headers({{"if-range", "Mon, 07 Nov 1994 08:49:37 GMT"}}), kCurrent));
  // Validators unknown (a body still streaming in): never holds.
  EXPECT_FALSE(ifRangeHolds(headers({{"if-range", "\"abc\""}}), Validators{}));
}

}  // namespace
}  // namespace modgate::http
