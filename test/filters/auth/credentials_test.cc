#include "source/filters/auth/credentials.h"

#include <gtest/gtest.h>

namespace modgate::filters::auth {
namespace {

// From Python: salt = b"0123456789abcdef";
//   sha256:  base64(sha256(salt + b"tok3n"))
//   pbkdf2:  base64(hashlib.pbkdf2_hmac("sha256", b"s3cret", salt, 1000))
constexpr char kFile[] = R"(# comment
basic alice pbkdf2-sha256$1000$MDEyMzQ1Njc4OWFiY2RlZg==$Pz0s4HPO+TyHnyTxIR8Lx+fEZojc3Lc26DQkf4ZOWCk=
bearer ci sha256$MDEyMzQ1Njc4OWFiY2RlZg==$ZHa7lZYMrKqdOJyzJG7r7QICnpi913I2Q2AQXYz16g8=
)";

TEST(Credentials, ErrorsNameTheLine) {
  EXPECT_EQ(Credentials::parse("\nbasic alice\n").status().message(),
            "line 2: want \"basic|bearer <name> <hash>\"");
  EXPECT_EQ(Credentials::parse("digest a sha256$x$y").status().message(),
            "line 1: unknown kind \"digest\" (basic or bearer)");
  EXPECT_FALSE(Credentials::parse("basic a md5$x$y").ok());
  EXPECT_FALSE(Credentials::parse("basic a pbkdf2-sha256$0$MDEyMzQ1Njc4OWFiY2RlZg==$"
                                  "MDEyMzQ1Njc4OWFiY2RlZg==")
                   .ok());
}

TEST(Credentials, VerifiesBasicAndBearer) {
  auto credentials = Credentials::parse(kFile);
  ASSERT_TRUE(credentials.ok()) << credentials.status();
  EXPECT_EQ((*credentials)->size(), 2u);
  // "alice:s3cret"
  auto alice = (*credentials)->verify("Basic YWxpY2U6czNjcmV0");
  ASSERT_TRUE(alice.has_value());
  EXPECT_EQ(alice->method, http::Identity::Method::kBasic);
  EXPECT_EQ(alice->name, "alice");
  EXPECT_FALSE((*credentials)->verify("Basic YWxpY2U6d3Jvbmc=").has_value());  // alice:wrong
  EXPECT_FALSE((*credentials)->verify("Basic Ym9iOnMzY3JldA==").has_value());  // bob:s3cret
  auto ci = (*credentials)->verify("Bearer tok3n");
  ASSERT_TRUE(ci.has_value());
  EXPECT_EQ(ci->method, http::Identity::Method::kBearer);
  EXPECT_EQ(ci->name, "ci");
  EXPECT_FALSE((*credentials)->verify("Bearer tok3nx").has_value());
  EXPECT_FALSE((*credentials)->verify("Basic !!!").has_value());
  EXPECT_FALSE((*credentials)->verify("Negotiate abc").has_value());
}

}  // namespace
}  // namespace modgate::filters::auth
