// Unit tests for the small syntax checkers the validator is built on.
#include "gtest/gtest.h"
#include "source/config/duration_text.h"
#include "source/config/glob_pattern.h"
#include "source/config/host_port.h"
#include "source/config/upstream_url.h"

namespace modgate::config {
namespace {

TEST(HostPortTest, Parses) {
  absl::StatusOr<HostPort> hp = ParseHostPort("[::1]:8080");
  ASSERT_TRUE(hp.ok()) << hp.status();
  EXPECT_EQ(hp->host, "::1");
  EXPECT_EQ(hp->port, 8080);
  hp = ParseHostPort("example.com:443");
  ASSERT_TRUE(hp.ok());
  EXPECT_EQ(hp->host, "example.com");
  EXPECT_EQ(hp->port, 443);
}

TEST(HostPortTest, Rejects) {
  for (const char* bad :
       {"", ":8080", "host", "host:", "host:http", "host:65536", "[::1]", "[::1]8080", "[zz]:80",
        "-bad-:80", "a..b:80", "01.2.3.4:80", "1.2.3:80", "host name:80"}) {
    EXPECT_FALSE(ParseHostPort(bad).ok()) << bad;
  }
}

TEST(UpstreamUrlTest, ParsesAndNormalizes) {
  absl::StatusOr<UpstreamUrl> url = ParseUpstreamUrl("HTTPS://proxy.golang.org/");
  ASSERT_TRUE(url.ok()) << url.status();
  EXPECT_EQ(url->scheme, "https");
  EXPECT_EQ(url->host, "proxy.golang.org");
  EXPECT_EQ(url->port, 443);
  EXPECT_EQ(url->path_prefix, "");

  url = ParseUpstreamUrl("http://[::1]:3000/go/");
  ASSERT_TRUE(url.ok()) << url.status();
  EXPECT_EQ(url->host, "::1");
  EXPECT_EQ(url->port, 3000);
  EXPECT_EQ(url->path_prefix, "/go");

  url = ParseUpstreamUrl("http://athens");
  ASSERT_TRUE(url.ok());
  EXPECT_EQ(url->port, 80);
}

TEST(UpstreamUrlTest, Rejects) {
  for (const char* bad : {"", "direct", "file:///tmp/x", "https://", "https://:443", "https://a b",
                          "https://user@host", "https://h/?q", "https://h#f", "https://h:0",
                          "https://[::1", "https://[::1]x"}) {
    EXPECT_FALSE(ParseUpstreamUrl(bad).ok()) << bad;
  }
}

TEST(GlobTest, AcceptsGoSyntax) {
  for (const char* ok : {"", "*", "*.corp.example.com", "github.com/acme/*", "a?c", "[abc]",
                         "[^a-z]x", "[\\]]", "\\*", "x[a-c\\-]"}) {
    EXPECT_TRUE(ValidateGlob(ok).ok()) << ok;
  }
  EXPECT_TRUE(ValidateGlobList("*.corp,,github.com/acme/*,").ok());
}

TEST(GlobTest, RejectsWhatGoRejects) {
  for (const char* bad : {"[", "[]", "[a", "[a-", "[a-]", "[-a]", "[^]", "abc\\", "[\\"}) {
    EXPECT_FALSE(ValidateGlob(bad).ok()) << bad;
  }
  EXPECT_FALSE(ValidateGlobList("ok,[bad").ok());
}

TEST(DurationTextTest, AcceptsProtoAndGoForms) {
  struct {
    const char* in;
    const char* out;
  } cases[] = {{"5s", "5s"},
               {"1.5s", "1.500000000s"},
               {"0", "0s"},
               {"250ms", "0.250000000s"},
               {"1m30s", "90s"},
               {"2h", "7200s"},
               {"-1.5s", "-1.500000000s"},
               {"1us", "0.000001000s"}};
  for (const auto& c : cases) {
    absl::StatusOr<std::string> json = DurationToProtoJson(c.in);
    ASSERT_TRUE(json.ok()) << c.in << ": " << json.status();
    EXPECT_EQ(*json, c.out) << c.in;
  }
  for (const char* bad : {"", "5", "s", "five seconds", "inf", "1d"}) {
    EXPECT_FALSE(DurationToProtoJson(bad).ok()) << bad;
  }
}

}  // namespace
}  // namespace modgate::config
