#include "source/admin/admin.h"

#include "gtest/gtest.h"

namespace modgate::admin {
namespace {

class AdminTest : public testing::Test {
 protected:
  AdminTest() {
    admin_.addHandler("/ready", "readiness", false, [](std::string_view) {
      return Admin::Response{200, "text/plain; charset=utf-8", "LIVE\n"};
    });
    admin_.addHandler("/drain", "drain", true, [this](std::string_view query) {
      last_query_ = std::string(query);
      return Admin::Response{200, "text/plain; charset=utf-8", "OK\n"};
    });
  }
  Admin admin_;
  std::string last_query_;
};

TEST_F(AdminTest, ReadOnlyEndpointsAnswerGetAndHead) {
  EXPECT_EQ(admin_.handle("GET", "/ready").status, 200);
  EXPECT_EQ(admin_.handle("HEAD", "/ready").status, 200);
  auto post = admin_.handle("POST", "/ready");
  EXPECT_EQ(post.status, 405);
  EXPECT_EQ(post.allow, "GET, HEAD");
}

TEST_F(AdminTest, MutatingEndpointsAnswerPostOnly) {
  auto get = admin_.handle("GET", "/drain");
  EXPECT_EQ(get.status, 405);
  EXPECT_EQ(get.allow, "POST");
  EXPECT_TRUE(last_query_.empty());
  EXPECT_EQ(admin_.handle("POST", "/drain?timeout=5").status, 200);
  EXPECT_EQ(last_query_, "timeout=5");
}

TEST_F(AdminTest, OnePathMayReadWithGetAndChangeWithPost) {
  admin_.addHandler("/runtime", "read", false, [](std::string_view) {
    return Admin::Response{200, "text/plain; charset=utf-8", "values\n"};
  });
  admin_.addHandler("/runtime", "change", true, [](std::string_view query) {
    return Admin::Response{200, "text/plain; charset=utf-8", std::string(query)};
  });
  EXPECT_EQ(admin_.handle("GET", "/runtime?a=1").body, "values\n");
  EXPECT_EQ(admin_.handle("POST", "/runtime?a=1").body, "a=1");
  auto put = admin_.handle("PUT", "/runtime");
  EXPECT_EQ(put.status, 405);
  EXPECT_EQ(put.allow, "GET, HEAD, POST");
  std::string index = admin_.handle("GET", "/").body;
  EXPECT_NE(index.find("GET  /runtime  read"), std::string::npos) << index;
  EXPECT_NE(index.find("POST /runtime  change"), std::string::npos) << index;
}

TEST_F(AdminTest, UnknownPathIs404AndIndexListsEndpoints) {
  EXPECT_EQ(admin_.handle("GET", "/nope").status, 404);
  auto index = admin_.handle("GET", "/");
  EXPECT_EQ(index.status, 200);
  EXPECT_NE(index.body.find("POST /drain"), std::string::npos);
  EXPECT_NE(index.body.find("GET  /ready"), std::string::npos);
}

}  // namespace
}  // namespace modgate::admin
