#include "source/common/http/http1/http_date.h"

#include <string>

#include "gtest/gtest.h"
#include "source/common/http/http1/reason_phrase.h"

namespace modgate::http::http1 {
namespace {

TEST(HttpDateTest, FormatsImfFixdate) {
  char out[32];
  // The example from RFC 9110 5.6.7.
  size_t n = formatHttpDate(784111777, out);
  EXPECT_EQ(std::string(out, n), "Sun, 06 Nov 1994 08:49:37 GMT");
  n = formatHttpDate(0, out);
  EXPECT_EQ(std::string(out, n), "Thu, 01 Jan 1970 00:00:00 GMT");
}

TEST(HttpDateTest, CachedDateIsCurrent) {
  std::string_view first = cachedHttpDate();
  EXPECT_EQ(first.size(), 29u);
  EXPECT_EQ(first.substr(26), "GMT");
  char out[32];
  const time_t now = time(nullptr);
  std::string expected(out, formatHttpDate(now, out));
  std::string cached(cachedHttpDate());
  // Allow for a second boundary between the two reads.
  if (cached != expected) {
    std::string next(out, formatHttpDate(now + 1, out));
    EXPECT_EQ(cached, next);
  }
}

TEST(ReasonPhraseTest, KnownAndUnknown) {
  EXPECT_EQ(reasonPhrase(200), "OK");
  EXPECT_EQ(reasonPhrase(431), "Request Header Fields Too Large");
  EXPECT_EQ(reasonPhrase(599), "");
}

}  // namespace
}  // namespace modgate::http::http1
