// Expected strings are what Go's strconv.Quote / strconv.QuoteRune give.
#include "source/goproxy/go_quote.h"

#include <string>

#include "gtest/gtest.h"

namespace modgate::goproxy {
namespace {

TEST(GoQuoteTest, Quote) {
  EXPECT_EQ(GoQuote(""), "\"\"");
  EXPECT_EQ(GoQuote("abc"), "\"abc\"");
  EXPECT_EQ(GoQuote("a\"b\\c"), "\"a\\\"b\\\\c\"");
  EXPECT_EQ(GoQuote("\a\b\f\n\r\t\v"), "\"\\a\\b\\f\\n\\r\\t\\v\"");
  EXPECT_EQ(GoQuote(std::string("\x00\x1f\x7f", 3)), "\"\\x00\\x1f\\x7f\"");
  EXPECT_EQ(GoQuote("x.y/\xff"
                    "z"),
            "\"x.y/\\xffz\"");
  EXPECT_EQ(GoQuote("испытание"), "\"испытание\"");
  EXPECT_EQ(GoQuote("x☺y"), "\"x☺y\"");
  EXPECT_EQ(GoQuote("\xc2\x85"), "\"\\u0085\"");              // C1 control NEL
  EXPECT_EQ(GoQuote("\xed\xa0\x80"), "\"\\xed\\xa0\\x80\"");  // encoded surrogate: invalid
  EXPECT_EQ(GoQuote("\xe2\x98"), "\"\\xe2\\x98\"");           // truncated
  EXPECT_EQ(GoQuote("'"), "\"'\"");
}

TEST(GoQuoteTest, QuoteRune) {
  EXPECT_EQ(GoQuoteRune('X'), "'X'");
  EXPECT_EQ(GoQuoteRune('\''), "'\\''");
  EXPECT_EQ(GoQuoteRune('"'), "'\"'");
  EXPECT_EQ(GoQuoteRune('\\'), "'\\\\'");
  EXPECT_EQ(GoQuoteRune(0), "'\\x00'");
  EXPECT_EQ(GoQuoteRune('\t'), "'\\t'");
  EXPECT_EQ(GoQuoteRune(U'☺'), "'☺'");
  EXPECT_EQ(GoQuoteRune(0xFFFD), "'\xef\xbf\xbd'");
  EXPECT_EQ(GoQuoteRune(0x110000), "'\xef\xbf\xbd'");
}

TEST(GoQuoteTest, DecodeRuneAndValidUtf8) {
  int size;
  EXPECT_EQ(DecodeRune("", &size), 0xFFFDu);
  EXPECT_EQ(size, 0);
  EXPECT_EQ(DecodeRune("a", &size), U'a');
  EXPECT_EQ(size, 1);
  EXPECT_EQ(DecodeRune("☺x", &size), U'☺');
  EXPECT_EQ(size, 3);
  EXPECT_EQ(DecodeRune("\xf0\x9f\x98\x80", &size), 0x1F600u);
  EXPECT_EQ(size, 4);
  EXPECT_EQ(DecodeRune("\xc0\x80", &size), 0xFFFDu);  // overlong
  EXPECT_EQ(size, 1);
  EXPECT_TRUE(ValidUtf8("испытание☺"));
  EXPECT_TRUE(ValidUtf8(""));
  EXPECT_FALSE(ValidUtf8("\xff"));
  EXPECT_FALSE(ValidUtf8("\xf4\x90\x80\x80"));  // > U+10FFFF
}

}  // namespace
}  // namespace modgate::goproxy
