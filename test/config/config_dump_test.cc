#include "source/config/config_dump.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "source/config/defaults.h"
#include "source/config/loader.h"
#include "test/config/redact_test.pb.h"

namespace modgate::config {
namespace {

using ::testing::HasSubstr;

TEST(RedactTest, RedactsAnnotatedFieldsRecursively) {
  test::Secretive s;
  s.set_plain("visible");
  s.set_password("hunter2");
  s.add_tokens("t1");
  s.add_tokens("t2");
  s.set_pin(1234);
  s.mutable_child()->set_password("child-secret");
  s.add_children()->set_password("grandchild-secret");
  s.add_children()->set_plain("ok");
  RedactSensitiveFields(s);
  EXPECT_EQ(s.plain(), "visible");
  EXPECT_EQ(s.password(), "[redacted]");
  EXPECT_EQ(s.tokens(0), "[redacted]");
  EXPECT_EQ(s.tokens(1), "[redacted]");
  EXPECT_EQ(s.pin(), 0u);
  EXPECT_EQ(s.child().password(), "[redacted]");
  EXPECT_EQ(s.children(0).password(), "[redacted]");
  EXPECT_EQ(s.children(1).plain(), "ok");
  EXPECT_EQ(s.children(1).password(), "");  // Unset stays unset.
}

TEST(DumpJsonTest, PrettyWithProtoFieldNamesAndRoundTrips) {
  absl::StatusOr<v1::Bootstrap> b = LoadYaml(
      "cache: {dir: /c, list_ttl: 1m30s}\nclusters:\n  - name: a\n    endpoints: [{url: "
      "\"https://a\"}]\n");
  ASSERT_TRUE(b.ok()) << b.status();
  ApplyDefaults(*b);
  std::string json = DumpJson(*b);
  EXPECT_THAT(json, HasSubstr("\"list_ttl\": \"90s\""));
  EXPECT_THAT(json, HasSubstr("\"connect_timeout\": \"5s\""));
  EXPECT_THAT(json, HasSubstr("\n"));
  absl::StatusOr<v1::Bootstrap> again = LoadJson(json);
  ASSERT_TRUE(again.ok()) << again.status() << "\n" << json;
  EXPECT_EQ(again->SerializeAsString(), b->SerializeAsString());
}

}  // namespace
}  // namespace modgate::config
