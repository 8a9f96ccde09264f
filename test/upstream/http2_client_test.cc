// The upstream client against real HTTP/2 origins (nginx): ALPN h2 over TLS,
// h2c with prior knowledge, multiplexing, per-stream flow control, GOAWAY,
// RST_STREAM, redirects, timeouts and fallback to HTTP/1.1.

#include <memory>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "source/common/event/dispatcher_impl.h"
#include "source/upstream/http2_client_connection.h"
#include "source/upstream/http_client.h"
#include "source/upstream/http_client_impl.h"
#include "test/upstream/nginx_origin.h"
#include "test/upstream/test_support.h"

namespace modgate::upstream {
namespace {

using testing::Collector;
using testing::NginxOrigin;
using testing::OriginProcess;
using testing::runFor;
using testing::runUntil;
using testing::TestCerts;

constexpr size_t kBigSize = 20 * 1024 * 1024;

class Http2ClientTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    certs_ = new std::optional<TestCerts>(TestCerts::generate());
    big_ = new std::string(testing::patternBytes(kBigSize));
  }
  static void TearDownTestSuite() {
    delete certs_;
    delete big_;
  }

  void SetUp() override {
    if (!NginxOrigin::available()) GTEST_SKIP() << "nginx is not installed";
    ASSERT_TRUE(certs_->has_value()) << "openssl CLI failed";
    settings_.ca_file = (*certs_)->ca;
    settings_.http2 = true;
  }

  void TearDown() override {
    client_.reset();
    runFor(dispatcher_, std::chrono::milliseconds(0));
    nginx_.reset();
  }

  // Starts nginx (TLS unless told otherwise) with the usual files and a
  // client for it.
  void startOrigin(NginxOrigin::Options options = {}) {
    if (options.tls) {
      options.cert = (*certs_)->cert;
      options.key = (*certs_)->key;
    }
    nginx_ = NginxOrigin::start(options);
    ASSERT_NE(nginx_, nullptr);
    const std::string& root = nginx_->docroot();
    ASSERT_TRUE(testing::writeFile(root + "/hello", "hello\n"));
    ASSERT_TRUE(testing::writeFile(root + "/big", *big_));
    for (int i = 0; i < 10; ++i) {
      ASSERT_TRUE(testing::writeFile(root + "/f" + std::to_string(i), "file " + std::to_string(i)));
    }
    base_ = *Url::parse(std::string(options.tls ? "https" : "http") +
                        "://localhost:" + std::to_string(nginx_->port()));
    client_ = createHttpClient(dispatcher_, settings_);
  }

  HttpClientImpl& impl() { return static_cast<HttpClientImpl&>(*client_); }

  void get(const std::string& path, Collector& collector, const RequestOptions& options = {}) {
    client_->send(base_, path, {}, collector, options);
    ASSERT_TRUE(runUntil(dispatcher_, [&] { return collector.done(); })) << path;
  }

  // Sends all, runs until all are done.
  void getAll(const std::vector<std::string>& paths, std::vector<Collector>& collectors) {
    collectors = std::vector<Collector>(paths.size());
    for (size_t i = 0; i < paths.size(); ++i) {
      client_->send(base_, paths[i], {}, collectors[i], {});
    }
    ASSERT_TRUE(runUntil(dispatcher_, [&] {
      for (const Collector& c : collectors) {
        if (!c.done()) return false;
      }
      return true;
    }));
  }

  static std::optional<TestCerts>* certs_;
  static std::string* big_;
  event::DispatcherImpl dispatcher_{"http2-test"};
  ClientSettings settings_;
  std::unique_ptr<NginxOrigin> nginx_;
  Url base_;
  std::unique_ptr<HttpClient> client_;
};

std::optional<TestCerts>* Http2ClientTest::certs_ = nullptr;
std::string* Http2ClientTest::big_ = nullptr;

TEST_F(Http2ClientTest, AlpnH2BigFileByteExact) {
  startOrigin();
  Collector hello;
  get("/hello", hello);
  ASSERT_TRUE(hello.complete) << hello.detail;
  EXPECT_EQ(hello.headers->status, 200);
  EXPECT_EQ(hello.body, "hello\n");
  EXPECT_EQ(hello.header("content-length"), "6");

  Collector big;
  get("/big", big);
  ASSERT_TRUE(big.complete) << big.detail;
  EXPECT_EQ(big.header("content-length"), std::to_string(kBigSize));
  ASSERT_EQ(big.body.size(), kBigSize);
  EXPECT_TRUE(big.body == *big_);
  EXPECT_EQ(big.calls_after_done, 0);

  EXPECT_EQ(impl().connectionsOpened(), 1u);
  EXPECT_EQ(impl().http2Connections(base_), 1u);
  auto log = nginx_->accessLog();
  ASSERT_EQ(log.size(), 2u);
  EXPECT_EQ(log[0].protocol, "HTTP/2.0");
  EXPECT_EQ(log[1].connection, log[0].connection);
}

TEST_F(Http2ClientTest, HeadOverH2) {
  startOrigin();
  Collector head;
  RequestOptions options;
  options.method = "HEAD";
  get("/big", head, options);
  ASSERT_TRUE(head.complete) << head.detail;
  EXPECT_TRUE(head.headers_end_stream);
  EXPECT_EQ(head.header("content-length"), std::to_string(kBigSize));
  EXPECT_TRUE(head.body.empty());
}

TEST_F(Http2ClientTest, HundredConcurrentRequestsShareOneConnection) {
  startOrigin();
  std::vector<std::string> paths;
  for (int i = 0; i < 100; ++i) paths.push_back("/f" + std::to_string(i % 10));
  std::vector<Collector> collectors;
  getAll(paths, collectors);
  for (int i = 0; i < 100; ++i) {
    ASSERT_TRUE(collectors[i].complete) << i << ": " << collectors[i].detail;
    EXPECT_EQ(collectors[i].body, "file " + std::to_string(i % 10));
  }
  EXPECT_EQ(impl().connectionsOpened(), 1u);
  auto log = nginx_->accessLog();
  ASSERT_EQ(log.size(), 100u);
  EXPECT_EQ(nginx_->distinctConnections(), 1u);
  for (const auto& line : log) EXPECT_EQ(line.protocol, "HTTP/2.0");

  // Later bursts reuse it too.
  getAll(paths, collectors);
  for (const Collector& c : collectors) ASSERT_TRUE(c.complete) << c.detail;
  EXPECT_EQ(impl().connectionsOpened(), 1u);
  EXPECT_EQ(nginx_->distinctConnections(), 1u);
}

TEST_F(Http2ClientTest, MaxConcurrentStreamsRespected) {
  NginxOrigin::Options options;
  options.server_extra = "    http2_max_concurrent_streams 10;\n";
  startOrigin(options);
  ASSERT_TRUE(testing::writeFile(nginx_->docroot() + "/medium", big_->substr(0, 4 << 20)));
  // Learn the limit first (the origin's SETTINGS come with the first answer).
  Collector first;
  get("/hello", first);
  ASSERT_TRUE(first.complete) << first.detail;
  // Ten long streams fill the first connection; the other five must not go
  // over the limit there but share one new connection.
  std::vector<std::string> paths(10, "/medium");
  for (int i = 0; i < 5; ++i) paths.push_back("/f" + std::to_string(i));
  std::vector<Collector> collectors;
  getAll(paths, collectors);
  for (size_t i = 0; i < collectors.size(); ++i) {
    ASSERT_TRUE(collectors[i].complete) << i << ": " << collectors[i].detail;
    if (i < 10) {
      EXPECT_EQ(collectors[i].body.size(), 4u << 20);
    }
  }
  EXPECT_EQ(impl().connectionsOpened(), 2u);
  EXPECT_EQ(nginx_->distinctConnections(), 2u);
  EXPECT_EQ(nginx_->accessLog().size(), 16u);
}

TEST_F(Http2ClientTest, ConnectionLimitQueuesRequestsForFreeStreams) {
  NginxOrigin::Options options;
  options.server_extra = "    http2_max_concurrent_streams 2;\n";
  startOrigin(options);
  ASSERT_TRUE(testing::writeFile(nginx_->docroot() + "/medium", big_->substr(0, 1 << 20)));
  RequestOptions limited;
  limited.limits.cluster_connections = std::make_shared<ResourceLimit>(1);
  Collector first;
  get("/hello", first, limited);
  ASSERT_TRUE(first.complete) << first.detail;
  // Two streams at a time on the one connection allowed: the others wait
  // for a stream to end instead of opening a second connection.
  std::vector<Collector> collectors(8);
  for (int i = 0; i < 8; ++i) {
    client_->send(base_, i % 2 == 0 ? "/medium" : "/f" + std::to_string(i), {}, collectors[i],
                  limited);
  }
  ASSERT_TRUE(runUntil(dispatcher_, [&] {
    for (const Collector& c : collectors) {
      if (!c.done()) return false;
    }
    return true;
  }));
  for (int i = 0; i < 8; ++i) {
    ASSERT_TRUE(collectors[i].complete) << i << ": " << collectors[i].detail;
    if (i % 2 == 0) EXPECT_EQ(collectors[i].body.size(), 1u << 20);
  }
  EXPECT_EQ(impl().connectionsOpened(), 1u);
  EXPECT_EQ(nginx_->distinctConnections(), 1u);
  EXPECT_EQ(limited.limits.cluster_connections->count(), 1u);
}

TEST_F(Http2ClientTest, ServerWithoutH2FallsBackToHttp11) {
  NginxOrigin::Options options;
  options.http2 = false;
  startOrigin(options);
  std::vector<std::string> paths;
  for (int i = 0; i < 10; ++i) paths.push_back("/f" + std::to_string(i));
  std::vector<Collector> collectors;
  getAll(paths, collectors);
  for (int i = 0; i < 10; ++i) {
    ASSERT_TRUE(collectors[i].complete) << collectors[i].detail;
    EXPECT_EQ(collectors[i].body, "file " + std::to_string(i));
  }
  Collector big;
  get("/big", big);
  ASSERT_TRUE(big.complete) << big.detail;
  EXPECT_TRUE(big.body == *big_);
  EXPECT_EQ(impl().http2Connections(base_), 0u);
  for (const auto& line : nginx_->accessLog()) EXPECT_EQ(line.protocol, "HTTP/1.1");
  EXPECT_GT(impl().idleConnections(base_), 0u);
}

TEST_F(Http2ClientTest, OriginWithoutAlpnFallsBackToHttp11) {
  // test_origin.py speaks HTTP/1.1 only and here answers no ALPN at all.
  auto origin = OriginProcess::start({(*certs_)->cert, (*certs_)->key, ""});
  ASSERT_NE(origin, nullptr);
  client_ = createHttpClient(dispatcher_, settings_);
  base_ = *Url::parse("https://localhost:" + std::to_string(origin->port()));
  for (int i = 0; i < 3; ++i) {
    Collector c;
    get("/hello", c);
    ASSERT_TRUE(c.complete) << c.detail;
    EXPECT_EQ(c.body, "hello\n");
  }
  EXPECT_EQ(impl().connectionsOpened(), 1u);
  client_.reset();
  runFor(dispatcher_, std::chrono::milliseconds(0));
}

TEST_F(Http2ClientTest, OriginPickingHttp11ByAlpn) {
  auto origin = OriginProcess::start({(*certs_)->cert, (*certs_)->key, "http/1.1"});
  ASSERT_NE(origin, nullptr);
  client_ = createHttpClient(dispatcher_, settings_);
  base_ = *Url::parse("https://localhost:" + std::to_string(origin->port()));
  std::vector<Collector> collectors;
  getAll({"/hello", "/hello", "/hello"}, collectors);
  for (const Collector& c : collectors) {
    ASSERT_TRUE(c.complete) << c.detail;
    EXPECT_EQ(c.body, "hello\n");
  }
  client_.reset();
  runFor(dispatcher_, std::chrono::milliseconds(0));
}

TEST_F(Http2ClientTest, PausedStreamDoesNotStallItsSibling) {
  startOrigin();
  Collector paused;
  Collector other;
  UpstreamRequest* paused_request = client_->send(base_, "/big", {}, paused, {});
  paused.on_headers = [&] { paused_request->readDisable(true); };
  client_->send(base_, "/big", {}, other, {});
  ASSERT_TRUE(runUntil(dispatcher_, [&] { return other.done(); }));
  ASSERT_TRUE(other.complete) << other.detail;
  EXPECT_TRUE(other.body == *big_);
  // Give the origin time to push whatever it may for the paused stream.
  runFor(dispatcher_, std::chrono::milliseconds(300));
  ASSERT_FALSE(paused.done());
  ASSERT_NE(paused.headers, nullptr);
  EXPECT_TRUE(paused.body.empty());
  // Bounded by the stream window: the origin stopped sending.
  const size_t buffered = impl().bufferedResponseBytes(base_);
  EXPECT_GT(buffered, 0u);
  EXPECT_LE(buffered, static_cast<size_t>(Http2ClientConnection::kStreamWindow));
  EXPECT_EQ(impl().connectionsOpened(), 1u);

  paused_request->readDisable(false);
  ASSERT_TRUE(runUntil(dispatcher_, [&] { return paused.done(); }));
  ASSERT_TRUE(paused.complete) << paused.detail;
  EXPECT_TRUE(paused.body == *big_);
  EXPECT_EQ(impl().connectionsOpened(), 1u);
}

TEST_F(Http2ClientTest, BackPressureHelperOverH2) {
  startOrigin();
  // The shared helper reads 1 MiB at a time and pauses in between.
  testing::streamWithBackPressure(dispatcher_, *client_, base_, "/big", kBigSize);
  EXPECT_EQ(impl().http2Connections(base_), 1u);
}

TEST_F(Http2ClientTest, GoawayMovesLaterRequestsToANewConnection) {
  NginxOrigin::Options options;
  options.keepalive_requests = 5;
  startOrigin(options);
  for (int i = 0; i < 12; ++i) {
    Collector c;
    get("/f" + std::to_string(i % 10), c);
    ASSERT_TRUE(c.complete) << i << ": " << c.detail;
  }
  EXPECT_EQ(nginx_->distinctConnections(), 3u);
  EXPECT_EQ(impl().connectionsOpened(), 3u);

  // Concurrent: nginx refuses (GOAWAY last_stream_id) what it will not
  // serve; those requests go again, to new connections, without failing.
  std::vector<std::string> paths;
  for (int i = 0; i < 23; ++i) paths.push_back("/f" + std::to_string(i % 10));
  std::vector<Collector> collectors;
  getAll(paths, collectors);
  for (size_t i = 0; i < collectors.size(); ++i) {
    ASSERT_TRUE(collectors[i].complete) << i << ": " << collectors[i].detail;
    EXPECT_EQ(collectors[i].body, "file " + std::to_string(i % 10));
  }
  auto log = nginx_->accessLog();
  EXPECT_EQ(log.size(), 35u);
  for (const auto& line : log) EXPECT_LE(line.request, 5);
  // 3 + 2 more on the third connection, then 20 more at 5 each.
  EXPECT_EQ(nginx_->distinctConnections(), 7u);
}

TEST_F(Http2ClientTest, NotFoundAndRedirectsOverH2) {
  startOrigin();
  Collector missing;
  get("/missing", missing);
  ASSERT_TRUE(missing.complete) << missing.detail;
  EXPECT_EQ(missing.headers->status, 404);

  Collector redirected;
  get("/redirect", redirected);
  ASSERT_TRUE(redirected.complete) << redirected.detail;
  EXPECT_EQ(redirected.headers->status, 200);
  EXPECT_EQ(redirected.body, "hello\n");

  Collector chain;
  get("/redirect-chain", chain);
  ASSERT_TRUE(chain.complete) << chain.detail;
  EXPECT_EQ(chain.body, "hello\n");

  Collector too_many;
  RequestOptions options;
  options.max_redirects = 1;
  get("/redirect-chain", too_many, options);
  ASSERT_TRUE(too_many.failed);
  EXPECT_EQ(too_many.reason, FailureReason::kTooManyRedirects);

  EXPECT_EQ(impl().connectionsOpened(), 1u);
  for (const auto& line : nginx_->accessLog()) EXPECT_EQ(line.protocol, "HTTP/2.0");
}

TEST_F(Http2ClientTest, ServerResetFailsOnlyThatStream) {
  startOrigin();
  Collector big;
  Collector reset;
  client_->send(base_, "/big", {}, big, {});
  client_->send(base_, "/rst", {}, reset, {});
  ASSERT_TRUE(runUntil(dispatcher_, [&] { return big.done() && reset.done(); }));
  ASSERT_TRUE(reset.failed);
  EXPECT_EQ(reset.reason, FailureReason::kReset) << reset.detail;
  ASSERT_TRUE(big.complete) << big.detail;
  EXPECT_TRUE(big.body == *big_);
  Collector after;
  get("/hello", after);
  ASSERT_TRUE(after.complete) << after.detail;
  EXPECT_EQ(impl().connectionsOpened(), 1u);
}

TEST_F(Http2ClientTest, CancelResetsOnlyThatStream) {
  startOrigin();
  Collector cancelled;
  Collector other;
  UpstreamRequest* request = client_->send(base_, "/big", {}, cancelled, {});
  cancelled.on_data = [&](buffer::Buffer&) { request->cancel(); };
  client_->send(base_, "/big", {}, other, {});
  ASSERT_TRUE(runUntil(dispatcher_, [&] { return other.done(); }));
  ASSERT_TRUE(other.complete) << other.detail;
  EXPECT_TRUE(other.body == *big_);
  EXPECT_FALSE(cancelled.done());
  EXPECT_EQ(cancelled.calls_after_done, 0);
  Collector after;
  get("/hello", after);
  ASSERT_TRUE(after.complete) << after.detail;
  EXPECT_EQ(impl().connectionsOpened(), 1u);
}

TEST_F(Http2ClientTest, TimeoutsResetTheStreamNotTheConnection) {
  // nginx proxies the slow paths to test_origin.py, unbuffered.
  auto slow = OriginProcess::start({});
  ASSERT_NE(slow, nullptr);
  NginxOrigin::Options options;
  options.server_extra =
      "    location /slow- { proxy_pass http://127.0.0.1:" + std::to_string(slow->port()) +
      "; proxy_buffering off; proxy_http_version 1.1; }\n";
  startOrigin(options);

  RequestOptions short_response;
  short_response.response_timeout = std::chrono::milliseconds(300);
  Collector headers_late;
  get("/slow-headers?ms=2000", headers_late, short_response);
  ASSERT_TRUE(headers_late.failed);
  EXPECT_EQ(headers_late.reason, FailureReason::kTimeout) << headers_late.detail;

  RequestOptions short_idle;
  short_idle.idle_timeout = std::chrono::milliseconds(300);
  Collector body_late;
  get("/slow-body?ms=2000", body_late, short_idle);
  ASSERT_TRUE(body_late.failed);
  EXPECT_EQ(body_late.reason, FailureReason::kTimeout) << body_late.detail;
  EXPECT_NE(body_late.headers, nullptr);

  Collector fine;
  get("/slow-body?ms=100", fine, short_idle);
  ASSERT_TRUE(fine.complete) << fine.detail;
  EXPECT_EQ(fine.body.size(), 10u);
  EXPECT_EQ(impl().connectionsOpened(), 1u);
  client_.reset();
  runFor(dispatcher_, std::chrono::milliseconds(0));
}

TEST_F(Http2ClientTest, H2cPriorKnowledge) {
  settings_.http2_prior_knowledge = true;
  NginxOrigin::Options options;
  options.tls = false;
  startOrigin(options);
  std::vector<std::string> paths;
  for (int i = 0; i < 20; ++i) paths.push_back("/f" + std::to_string(i % 10));
  std::vector<Collector> collectors;
  getAll(paths, collectors);
  for (const Collector& c : collectors) ASSERT_TRUE(c.complete) << c.detail;
  Collector big;
  get("/big", big);
  ASSERT_TRUE(big.complete) << big.detail;
  EXPECT_TRUE(big.body == *big_);
  EXPECT_EQ(impl().connectionsOpened(), 1u);
  EXPECT_EQ(nginx_->distinctConnections(), 1u);
  for (const auto& line : nginx_->accessLog()) EXPECT_EQ(line.protocol, "HTTP/2.0");
}

TEST_F(Http2ClientTest, PlainHttpStaysHttp11WithoutPriorKnowledge) {
  NginxOrigin::Options options;
  options.tls = false;
  options.http2 = false;
  startOrigin(options);
  Collector c;
  get("/hello", c);
  ASSERT_TRUE(c.complete) << c.detail;
  EXPECT_EQ(nginx_->accessLog().at(0).protocol, "HTTP/1.1");
}

TEST_F(Http2ClientTest, IdleConnectionClosesAfterPoolTimeout) {
  settings_.pool_idle_timeout = std::chrono::milliseconds(200);
  startOrigin();
  Collector c;
  get("/hello", c);
  ASSERT_TRUE(c.complete) << c.detail;
  EXPECT_EQ(impl().http2Connections(base_), 1u);
  ASSERT_TRUE(runUntil(
      dispatcher_, [&] { return impl().http2Connections(base_) == 0; }, std::chrono::seconds(3)));
  Collector again;
  get("/hello", again);
  ASSERT_TRUE(again.complete) << again.detail;
  EXPECT_EQ(impl().connectionsOpened(), 2u);
}

TEST_F(Http2ClientTest, ConnectFailureFailsEveryWaiter) {
  // Nothing listens there: one attempt, every request fails with its error.
  base_ = *Url::parse("https://localhost:" + std::to_string(1));
  client_ = createHttpClient(dispatcher_, settings_);
  std::vector<Collector> collectors;
  getAll({"/a", "/b", "/c", "/d"}, collectors);
  for (const Collector& c : collectors) {
    ASSERT_TRUE(c.failed);
    EXPECT_EQ(c.reason, FailureReason::kConnectFailure) << c.detail;
  }
}

}  // namespace
}  // namespace modgate::upstream
