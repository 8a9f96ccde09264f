#include "gtest/gtest.h"
#include "source/common/event/dispatcher_impl.h"
#include "source/upstream/http_client.h"
#include "source/upstream/http_client_impl.h"
#include "test/upstream/test_support.h"

namespace modgate::upstream {
namespace {

using testing::Collector;
using testing::OriginProcess;
using testing::runFor;
using testing::runUntil;
using testing::TestCerts;

class HttpsClientTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { certs_ = new std::optional<TestCerts>(TestCerts::generate()); }
  static void TearDownTestSuite() { delete certs_; }

  void SetUp() override {
    ASSERT_TRUE(certs_->has_value()) << "openssl CLI failed";
    origin_ = OriginProcess::start({(*certs_)->cert, (*certs_)->key, "h2,http/1.1"});
    ASSERT_NE(origin_, nullptr);
    base_ = *Url::parse("https://localhost:" + std::to_string(origin_->port()));
    settings_.ca_file = (*certs_)->ca;
    client_ = createHttpClient(dispatcher_, settings_);
  }

  void TearDown() override {
    client_.reset();
    runFor(dispatcher_, std::chrono::milliseconds(0));
  }

  HttpClientImpl& impl() { return static_cast<HttpClientImpl&>(*client_); }

  void get(const std::string& path, Collector& collector, const RequestOptions& options = {}) {
    client_->send(base_, path, {}, collector, options);
    ASSERT_TRUE(runUntil(dispatcher_, [&] { return collector.done(); })) << path;
  }

  static std::optional<TestCerts>* certs_;
  event::DispatcherImpl dispatcher_{"https-test"};
  ClientSettings settings_;
  std::unique_ptr<OriginProcess> origin_;
  Url base_;
  std::unique_ptr<HttpClient> client_;
};

std::optional<TestCerts>* HttpsClientTest::certs_ = nullptr;

TEST_F(HttpsClientTest, GetOverTlsWithKeepAlive) {
  for (int i = 0; i < 10; ++i) {
    Collector c;
    get("/hello", c);
    ASSERT_TRUE(c.complete) << c.detail;
    EXPECT_EQ(c.headers->status, 200);
    EXPECT_EQ(c.body, "hello\n");
  }
  Collector count;
  get("/count", count);
  EXPECT_EQ(count.body, "1");
  EXPECT_EQ(impl().connectionsOpened(), 1u);
}

TEST_F(HttpsClientTest, ChunkedAndCloseDelimitedOverTls) {
  Collector chunked;
  get("/chunked?n=3", chunked);
  ASSERT_TRUE(chunked.complete) << chunked.detail;
  EXPECT_EQ(chunked.body, "chunk0;chunk1;chunk2;");
  Collector until_close;
  get("/close", until_close);
  ASSERT_TRUE(until_close.complete) << until_close.detail;
  EXPECT_EQ(until_close.body, "until-close body");
}

TEST_F(HttpsClientTest, WrongCaIsTlsFailure) {
  settings_.ca_file = (*certs_)->other_ca;
  client_ = createHttpClient(dispatcher_, settings_);
  Collector c;
  get("/hello", c);
  ASSERT_TRUE(c.failed);
  EXPECT_EQ(c.reason, FailureReason::kTlsFailure);
  EXPECT_NE(c.detail.find("certificate verify failed"), std::string::npos) << c.detail;
}

TEST_F(HttpsClientTest, HostnameMismatchIsTlsFailure) {
  // The certificate names DNS:localhost only.
  base_ = *Url::parse("https://127.0.0.1:" + std::to_string(origin_->port()));
  Collector c;
  get("/hello", c);
  ASSERT_TRUE(c.failed);
  EXPECT_EQ(c.reason, FailureReason::kTlsFailure) << c.detail;
}

TEST_F(HttpsClientTest, VerifyOff) {
  settings_.ca_file = (*certs_)->other_ca;
  settings_.verify = false;
  client_ = createHttpClient(dispatcher_, settings_);
  base_ = *Url::parse("https://127.0.0.1:" + std::to_string(origin_->port()));
  Collector c;
  get("/hello", c);
  EXPECT_TRUE(c.complete) << c.detail;
}

TEST_F(HttpsClientTest, UnreadableCaFile) {
  settings_.ca_file = "/nonexistent/ca.pem";
  EXPECT_FALSE(createHttpClientOrError(dispatcher_, settings_).ok());
  client_ = createHttpClient(dispatcher_, settings_);
  Collector c;
  get("/hello", c);
  ASSERT_TRUE(c.failed);
  EXPECT_EQ(c.reason, FailureReason::kTlsFailure);
  EXPECT_NE(c.detail.find("/nonexistent/ca.pem"), std::string::npos) << c.detail;
}

TEST_F(HttpsClientTest, PlainHttpToTlsPortFails) {
  base_ = *Url::parse("http://localhost:" + std::to_string(origin_->port()));
  RequestOptions options;
  options.response_timeout = std::chrono::milliseconds(500);
  Collector c;
  get("/hello", c, options);
  EXPECT_TRUE(c.failed);
}

TEST_F(HttpsClientTest, RedirectHttpsToHttpRefused) {
  auto plain = OriginProcess::start({});
  ASSERT_NE(plain, nullptr);
  Collector c;
  get("/r/to?u=http://localhost:" + std::to_string(plain->port()) + "/hello", c);
  ASSERT_TRUE(c.failed);
  EXPECT_EQ(c.reason, FailureReason::kProtocolError);
  EXPECT_NE(c.detail.find("https to http"), std::string::npos) << c.detail;
}

TEST_F(HttpsClientTest, RedirectHttpToHttpsFollowed) {
  auto plain = OriginProcess::start({});
  ASSERT_NE(plain, nullptr);
  Url plain_base = *Url::parse("http://127.0.0.1:" + std::to_string(plain->port()));
  Collector c;
  client_->send(plain_base,
                "/r/to?u=https://localhost:" + std::to_string(origin_->port()) + "/r/target", {}, c,
                {});
  ASSERT_TRUE(runUntil(dispatcher_, [&] { return c.done(); }));
  ASSERT_TRUE(c.complete) << c.detail;
  EXPECT_EQ(c.body, "target");
}

TEST_F(HttpsClientTest, StaleTlsConnectionRetried) {
  Collector first;
  get("/drop-next", first);
  ASSERT_TRUE(first.complete) << first.detail;
  Collector second;
  get("/hello", second);
  ASSERT_TRUE(second.complete) << second.detail;
  EXPECT_EQ(impl().connectionsOpened(), 2u);
}

TEST_F(HttpsClientTest, BigBodyWithBackPressureOverTls) {
  testing::streamWithBackPressure(dispatcher_, *client_, base_, "/big?size=52428800", 52428800);
}

TEST_F(HttpsClientTest, NoOpenSsl3InProcess) {
  EXPECT_TRUE(testing::processMapsLibrary("android/libssl.so.0"));
  EXPECT_FALSE(testing::processMapsLibrary("libssl.so.3"));
  EXPECT_FALSE(testing::processMapsLibrary("libcrypto.so.3"));
}

}  // namespace
}  // namespace modgate::upstream
