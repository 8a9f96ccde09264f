#include "source/goproxy/url_path.h"

#include <string>

#include "gtest/gtest.h"

namespace modgate::goproxy {
namespace {

TEST(UrlPathTest, Decode) {
  EXPECT_EQ(*DecodeUrlPath("/github.com/%21burnt%21sushi/toml"), "/github.com/!burnt!sushi/toml");
  EXPECT_EQ(*DecodeUrlPath("/a/v2.1.0+incompatible.zip"), "/a/v2.1.0+incompatible.zip");
  EXPECT_EQ(*DecodeUrlPath("%41%62%7e%25"), "Ab~%");
  EXPECT_EQ(*DecodeUrlPath("%2541"), "%41");  // exactly once
  EXPECT_EQ(*DecodeUrlPath("%00"), std::string(1, '\0'));
  EXPECT_EQ(*DecodeUrlPath(""), "");
}

TEST(UrlPathTest, DecodeErrors) {
  EXPECT_EQ(DecodeUrlPath("/%zz").status().message(), "invalid URL escape \"%zz\"");
  EXPECT_EQ(DecodeUrlPath("/a%").status().message(), "invalid URL escape \"%\"");
  EXPECT_EQ(DecodeUrlPath("/a%4").status().message(), "invalid URL escape \"%4\"");
  EXPECT_EQ(DecodeUrlPath("/a%4g").status().message(), "invalid URL escape \"%4g\"");
  EXPECT_FALSE(DecodeUrlPath("/a%2Fb").ok());
  EXPECT_FALSE(DecodeUrlPath("/a%2fb").ok());
}

TEST(UrlPathTest, Encode) {
  EXPECT_EQ(EncodeUrlPath("/github.com/!burnt!sushi/toml/@v/v2.1.0+incompatible.zip"),
            "/github.com/!burnt!sushi/toml/@v/v2.1.0+incompatible.zip");
  EXPECT_EQ(EncodeUrlPath("a b%#?[]{}^()'\"\\\x01\xff"),
            "a%20b%25%23%3F%5B%5D%7B%7D%5E%28%29%27%22%5C%01%FF");
  EXPECT_EQ(EncodeUrlPath("-._~!$&+,;=@/"), "-._~!$&+,;=@/");
}

TEST(UrlPathTest, EncodeDecodeRoundTrip) {
  std::string all;
  for (int c = 0; c < 256; ++c) {
    if (c != '/') all.push_back(static_cast<char>(c));
  }
  EXPECT_EQ(*DecodeUrlPath(EncodeUrlPath(all)), all);
}

}  // namespace
}  // namespace modgate::goproxy
