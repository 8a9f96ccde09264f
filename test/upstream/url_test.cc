#include "gtest/gtest.h"
#include "source/upstream/http_client.h"
#include "source/upstream/redirect.h"

namespace modgate::upstream {
namespace {

TEST(UrlTest, Parse) {
  auto url = Url::parse("https://Proxy.Golang.org");
  ASSERT_TRUE(url.ok());
  EXPECT_EQ(url->scheme, "https");
  EXPECT_EQ(url->host, "proxy.golang.org");
  EXPECT_EQ(url->port, 443);
  EXPECT_EQ(url->path_prefix, "");
  EXPECT_EQ(url->authority(), "proxy.golang.org");

  url = Url::parse("http://example.com:8080/goproxy/");
  ASSERT_TRUE(url.ok());
  EXPECT_EQ(url->port, 8080);
  EXPECT_EQ(url->path_prefix, "/goproxy");
  EXPECT_EQ(url->authority(), "example.com:8080");

  url = Url::parse("http://[::1]:9000/x");
  ASSERT_TRUE(url.ok());
  EXPECT_EQ(url->host, "::1");
  EXPECT_EQ(url->authority(), "[::1]:9000");

  url = Url::parse("http://example.com:80");
  ASSERT_TRUE(url.ok());
  EXPECT_EQ(url->authority(), "example.com");
}

TEST(UrlTest, Rejects) {
  for (const char* bad :
       {"example.com", "ftp://x", "http://", "http://:80", "http://a:0", "http://a:65536",
        "http://a:x", "http://u@a", "http://a/?q", "http://[::1", "http://[zz]:1", "http://a b"}) {
    EXPECT_FALSE(Url::parse(bad).ok()) << bad;
  }
}

TEST(RedirectTest, Resolve) {
  Origin origin{"https", "a.example", 443};
  auto resolve = [&](const char* location) {
    auto target = resolveRedirect(origin, "/dir/file?x=1", location);
    EXPECT_TRUE(target.ok()) << location;
    return target.ok() ? target->origin.key() + target->target : std::string();
  };
  EXPECT_EQ(resolve("other"), "https://a.example:443/dir/other");
  EXPECT_EQ(resolve("../up"), "https://a.example:443/up");
  EXPECT_EQ(resolve("/abs?q=2#frag"), "https://a.example:443/abs?q=2");
  EXPECT_EQ(resolve("?y=2"), "https://a.example:443/dir/file?y=2");
  EXPECT_EQ(resolve("//b.example/p"), "https://b.example:443/p");
  EXPECT_EQ(resolve("http://c.example:81"), "http://c.example:81/");
  EXPECT_EQ(resolve("HTTPS://D.example/x/./y/../z"), "https://d.example:443/x/z");
  EXPECT_EQ(resolve("/../../x"), "https://a.example:443/x");
  EXPECT_FALSE(resolveRedirect(origin, "/", "").ok());
  EXPECT_FALSE(resolveRedirect(origin, "/", "mailto:x@y").ok());
  EXPECT_FALSE(resolveRedirect(origin, "/", "/a b").ok());
  EXPECT_TRUE(isRedirectStatus(308));
  EXPECT_FALSE(isRedirectStatus(304));
}

}  // namespace
}  // namespace modgate::upstream
