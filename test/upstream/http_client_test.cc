#include "source/upstream/http_client.h"

#include <fcntl.h>
#include <netinet/in.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include "gtest/gtest.h"
#include "source/common/event/dispatcher_impl.h"
#include "source/upstream/http_client_impl.h"
#include "test/upstream/test_support.h"

namespace modgate::upstream {
namespace {

using testing::Collector;
using testing::OriginProcess;
using testing::runFor;
using testing::runUntil;

class HttpClientTest : public ::testing::Test {
 protected:
  void SetUp() override {
    origin_ = OriginProcess::start({});
    ASSERT_NE(origin_, nullptr);
    base_ = *Url::parse("http://127.0.0.1:" + std::to_string(origin_->port()));
    client_ = createHttpClient(dispatcher_, settings_);
  }

  void TearDown() override {
    client_.reset();
    runFor(dispatcher_, std::chrono::milliseconds(0));
  }

  HttpClientImpl& impl() { return static_cast<HttpClientImpl&>(*client_); }

  // Sends and waits for the terminal callback.
  void get(const std::string& path, Collector& collector, const RequestOptions& options = {},
           const http::HeaderMap& headers = {}) {
    client_->send(base_, path, headers, collector, options);
    ASSERT_TRUE(runUntil(dispatcher_, [&] { return collector.done(); })) << path;
  }

  std::string fetch(const std::string& path) {
    Collector collector;
    get(path, collector);
    EXPECT_TRUE(collector.complete) << path << ": " << collector.detail;
    return collector.body;
  }

  int serverConnections() { return std::stoi(fetch("/count")); }

  event::DispatcherImpl dispatcher_{"test"};
  ClientSettings settings_;
  std::unique_ptr<OriginProcess> origin_;
  Url base_;
  std::unique_ptr<HttpClient> client_;
};

TEST_F(HttpClientTest, SimpleGet) {
  Collector c;
  get("/hello", c);
  ASSERT_TRUE(c.complete) << c.detail;
  EXPECT_EQ(c.headers->status, 200);
  EXPECT_FALSE(c.headers_end_stream);
  EXPECT_EQ(c.body, "hello\n");
  EXPECT_EQ(c.header("content-length"), "6");
  EXPECT_EQ(c.header("x-mixed-case"), "Yes");  // names folded, values kept
  EXPECT_EQ(c.calls_after_done, 0);
}

TEST_F(HttpClientTest, RequestHead) {
  http::HeaderMap extra;
  extra.add("x-test", "value 1");
  extra.add("host", "evil.example");  // reserved: ignored
  Collector c;
  get("/echo?q=1", c, {}, extra);
  ASSERT_TRUE(c.complete) << c.detail;
  EXPECT_NE(c.body.find("GET /echo?q=1 HTTP/1.1\r\n"), std::string::npos) << c.body;
  EXPECT_NE(c.body.find("Host: 127.0.0.1:" + std::to_string(origin_->port()) + "\r\n"),
            std::string::npos);
  EXPECT_NE(c.body.find("User-Agent: modgate/0.1\r\n"), std::string::npos);
  EXPECT_NE(c.body.find("Accept-Encoding: identity"), std::string::npos);
  EXPECT_NE(c.body.find("x-test: value 1"), std::string::npos);
  EXPECT_EQ(c.body.find("evil"), std::string::npos);
}

TEST_F(HttpClientTest, AuthorityOverridesTheHostHeader) {
  RequestOptions options;
  options.authority = "modules.example:8443";
  Collector c;
  get("/echo", c, options);
  ASSERT_TRUE(c.complete) << c.detail;
  EXPECT_NE(c.body.find("\r\nHost: modules.example:8443\r\n"), std::string::npos) << c.body;
  EXPECT_EQ(c.body.find("Host: 127.0.0.1"), std::string::npos) << c.body;
}

TEST_F(HttpClientTest, AuthorityIsNotCarriedToAnotherOrigin) {
  auto other = OriginProcess::start({});
  ASSERT_NE(other, nullptr);
  RequestOptions options;
  options.authority = "modules.example";
  Collector c;
  get("/r/to?u=http://localhost:" + std::to_string(other->port()) + "/echo", c, options);
  ASSERT_TRUE(c.complete) << c.detail;
  EXPECT_NE(c.body.find("Host: localhost:" + std::to_string(other->port())), std::string::npos)
      << c.body;
}

TEST_F(HttpClientTest, InvalidAuthorityRejected) {
  RequestOptions options;
  options.authority = "evil\r\nx-injected: 1";
  Collector c;
  get("/hello", c, options);
  ASSERT_TRUE(c.failed);
  EXPECT_EQ(c.reason, FailureReason::kProtocolError) << c.detail;
}

TEST_F(HttpClientTest, PathPrefix) {
  base_ = *Url::parse("http://127.0.0.1:" + std::to_string(origin_->port()) + "/r/");
  EXPECT_EQ(fetch("/target"), "target");
}

TEST_F(HttpClientTest, KeepAliveReusesOneConnection) {
  for (int i = 0; i < 20; ++i) EXPECT_EQ(fetch("/hello"), "hello\n");
  EXPECT_EQ(serverConnections(), 1);
  EXPECT_EQ(impl().connectionsOpened(), 1u);
  EXPECT_EQ(impl().idleConnections(base_), 1u);
}

TEST_F(HttpClientTest, ConcurrentRequestsOpenSeveralConnectionsThenPoolThem) {
  Collector a, b, c;
  client_->send(base_, "/hello", {}, a, {});
  client_->send(base_, "/hello", {}, b, {});
  client_->send(base_, "/hello", {}, c, {});
  ASSERT_TRUE(runUntil(dispatcher_, [&] { return a.done() && b.done() && c.done(); }));
  EXPECT_TRUE(a.complete && b.complete && c.complete);
  EXPECT_EQ(impl().idleConnections(base_), 3u);
  for (int i = 0; i < 5; ++i) fetch("/hello");
  EXPECT_EQ(serverConnections(), 3);
}

TEST_F(HttpClientTest, MaxIdlePerHost) {
  settings_.max_idle_connections_per_host = 1;
  client_ = createHttpClient(dispatcher_, settings_);
  Collector a, b;
  client_->send(base_, "/hello", {}, a, {});
  client_->send(base_, "/hello", {}, b, {});
  ASSERT_TRUE(runUntil(dispatcher_, [&] { return a.done() && b.done(); }));
  EXPECT_EQ(impl().idleConnections(base_), 1u);
}

TEST_F(HttpClientTest, ChunkedIsDecodedAndKeptAlive) {
  Collector c;
  get("/chunked?n=50", c);
  ASSERT_TRUE(c.complete) << c.detail;
  std::string expected;
  for (int i = 0; i < 50; ++i) expected += "chunk" + std::to_string(i) + ";";
  EXPECT_EQ(c.body, expected);
  EXPECT_EQ(c.header("transfer-encoding"), "chunked");
  fetch("/hello");
  EXPECT_EQ(serverConnections(), 1);
}

TEST_F(HttpClientTest, ReadUntilCloseBody) {
  Collector c;
  get("/close", c);
  ASSERT_TRUE(c.complete) << c.detail;
  EXPECT_EQ(c.body, "until-close body");
  EXPECT_EQ(impl().idleConnections(base_), 0u);
}

TEST_F(HttpClientTest, ConnectionCloseIsNotPooled) {
  EXPECT_EQ(fetch("/conn-close"), "bye");
  EXPECT_EQ(fetch("/http10"), "old!");
  runFor(dispatcher_, std::chrono::milliseconds(20));
  EXPECT_EQ(impl().idleConnections(base_), 0u);
  EXPECT_EQ(serverConnections(), 3);
}

TEST_F(HttpClientTest, StalePooledConnectionIsRetriedOnce) {
  EXPECT_EQ(fetch("/drop-next"), "dropping next");
  EXPECT_EQ(impl().idleConnections(base_), 1u);
  // The origin closes the pooled connection when the request arrives.
  EXPECT_EQ(fetch("/hello"), "hello\n");
  EXPECT_EQ(impl().connectionsOpened(), 2u);
}

TEST_F(HttpClientTest, IdleConnectionClosedByOriginLeavesPool) {
  fetch("/hello");
  ASSERT_EQ(impl().idleConnections(base_), 1u);
  origin_.reset();  // kills the origin: its sockets close
  ASSERT_TRUE(runUntil(dispatcher_, [&] { return impl().idleConnections(base_) == 0; }));
}

TEST_F(HttpClientTest, PoolIdleTimeout) {
  settings_.pool_idle_timeout = std::chrono::milliseconds(100);
  client_ = createHttpClient(dispatcher_, settings_);
  fetch("/hello");
  EXPECT_EQ(impl().idleConnections(base_), 1u);
  ASSERT_TRUE(runUntil(
      dispatcher_, [&] { return impl().idleConnections(base_) == 0; }, std::chrono::seconds(3)));
}

TEST_F(HttpClientTest, ResetMidBody) {
  Collector c;
  get("/reset-mid", c);
  ASSERT_TRUE(c.failed);
  EXPECT_EQ(c.reason, FailureReason::kReset) << c.detail;
  ASSERT_NE(c.headers, nullptr);
  EXPECT_EQ(c.body, "0123456789");
}

TEST_F(HttpClientTest, NoBodyResponses) {
  Collector no_content;
  get("/no-body", no_content);
  ASSERT_TRUE(no_content.complete) << no_content.detail;
  EXPECT_EQ(no_content.headers->status, 204);
  EXPECT_TRUE(no_content.headers_end_stream);

  Collector not_modified;
  get("/not-modified", not_modified);
  ASSERT_TRUE(not_modified.complete) << not_modified.detail;
  EXPECT_EQ(not_modified.headers->status, 304);
  EXPECT_TRUE(not_modified.headers_end_stream);

  RequestOptions head;
  head.method = "HEAD";
  Collector h;
  get("/big?size=100000", h, head);
  ASSERT_TRUE(h.complete) << h.detail;
  EXPECT_TRUE(h.headers_end_stream);
  EXPECT_EQ(h.header("content-length"), "100000");

  EXPECT_EQ(fetch("/hello"), "hello\n");
  EXPECT_EQ(serverConnections(), 1);
}

TEST_F(HttpClientTest, InformationalResponseSkipped) {
  Collector c;
  get("/continue", c);
  ASSERT_TRUE(c.complete) << c.detail;
  EXPECT_EQ(c.headers->status, 200);
  EXPECT_EQ(c.body, "ok");
}

TEST_F(HttpClientTest, HugeHeadersOverflow) {
  Collector c;
  get("/huge-headers", c);
  ASSERT_TRUE(c.failed);
  EXPECT_EQ(c.reason, FailureReason::kOverflow) << c.detail;
}

TEST_F(HttpClientTest, GarbageIsProtocolError) {
  Collector c;
  get("/garbage", c);
  ASSERT_TRUE(c.failed);
  EXPECT_EQ(c.reason, FailureReason::kProtocolError) << c.detail;
}

TEST_F(HttpClientTest, InvalidRequestHeaderRejected) {
  http::HeaderMap extra;
  extra.add("x-bad", "a\r\nInjected: yes");
  Collector c;
  get("/hello", c, {}, extra);
  ASSERT_TRUE(c.failed);
  EXPECT_EQ(c.reason, FailureReason::kProtocolError);
}

TEST_F(HttpClientTest, RelativeRedirect) {
  Collector c;
  get("/r/rel", c);
  ASSERT_TRUE(c.complete) << c.detail;
  EXPECT_EQ(c.headers->status, 200);
  EXPECT_EQ(c.body, "target");
}

TEST_F(HttpClientTest, DotSegmentRedirect) { EXPECT_EQ(fetch("/r/dots"), "hello\n"); }

TEST_F(HttpClientTest, AbsoluteRedirectWithBodyKeepsConnection) {
  Collector c;
  get("/r/abs", c);
  ASSERT_TRUE(c.complete) << c.detail;
  EXPECT_EQ(c.body, "hello\n");  // the 301's body was dropped
  EXPECT_EQ(c.header("content-length"), "6");
  EXPECT_EQ(serverConnections(), 1);
}

TEST_F(HttpClientTest, RedirectChain) {
  Collector c;
  get("/r/chain?n=5", c);
  ASSERT_TRUE(c.complete) << c.detail;
  EXPECT_EQ(c.body, "hello\n");
  EXPECT_EQ(serverConnections(), 1);
}

TEST_F(HttpClientTest, RedirectLimit) {
  RequestOptions options;
  options.max_redirects = 3;
  Collector ok;
  get("/r/chain?n=3", ok, options);
  EXPECT_TRUE(ok.complete) << ok.detail;
  Collector too_many;
  get("/r/chain?n=4", too_many, options);
  ASSERT_TRUE(too_many.failed);
  EXPECT_EQ(too_many.reason, FailureReason::kTooManyRedirects);
  Collector loop;
  get("/r/loop", loop);
  ASSERT_TRUE(loop.failed);
  EXPECT_EQ(loop.reason, FailureReason::kTooManyRedirects);
}

TEST_F(HttpClientTest, RedirectToAnotherOrigin) {
  auto other = OriginProcess::start({});
  ASSERT_NE(other, nullptr);
  Collector c;
  get("/r/to?u=http://localhost:" + std::to_string(other->port()) + "/r/target", c);
  ASSERT_TRUE(c.complete) << c.detail;
  EXPECT_EQ(c.body, "target");
}

TEST_F(HttpClientTest, ResponseTimeout) {
  RequestOptions options;
  options.response_timeout = std::chrono::milliseconds(200);
  Collector c;
  // The answer would come after 3 s: a timeout failure without headers shows
  // the client did not wait for it (no wall-time bound: CI is busy).
  get("/slow-headers?ms=3000", c, options);
  ASSERT_TRUE(c.failed);
  EXPECT_EQ(c.reason, FailureReason::kTimeout) << c.detail;
  EXPECT_EQ(c.headers, nullptr);
}

TEST_F(HttpClientTest, BodyIdleTimeout) {
  RequestOptions options;
  options.idle_timeout = std::chrono::milliseconds(200);
  Collector c;
  get("/slow-body?ms=3000", c, options);
  ASSERT_TRUE(c.failed);
  EXPECT_EQ(c.reason, FailureReason::kTimeout) << c.detail;
  ASSERT_NE(c.headers, nullptr);
  EXPECT_EQ(c.body, "01234");
  // A slow body within the idle timeout is fine.
  Collector slow;
  get("/slow-body?ms=100", slow);
  EXPECT_TRUE(slow.complete) << slow.detail;
  EXPECT_EQ(slow.body, "0123456789");
}

TEST_F(HttpClientTest, ConnectRefused) {
  // A port that was just free.
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
  socklen_t len = sizeof(addr);
  getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  close(fd);
  base_ = *Url::parse("http://127.0.0.1:" + std::to_string(ntohs(addr.sin_port)));
  Collector c;
  get("/hello", c);
  ASSERT_TRUE(c.failed);
  EXPECT_EQ(c.reason, FailureReason::kConnectFailure) << c.detail;
}

TEST_F(HttpClientTest, ConnectTimeout) {
  // A listener whose accept queue is full drops further SYNs.
  int listener = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(bind(listener, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
  ASSERT_EQ(listen(listener, 0), 0);
  socklen_t len = sizeof(addr);
  getsockname(listener, reinterpret_cast<sockaddr*>(&addr), &len);
  std::vector<int> fillers;
  for (int i = 0; i < 4; ++i) {
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr));
    fillers.push_back(fd);
  }
  usleep(100 * 1000);
  base_ = *Url::parse("http://127.0.0.1:" + std::to_string(ntohs(addr.sin_port)));
  RequestOptions options;
  options.connect_timeout = std::chrono::milliseconds(300);
  Collector c;
  get("/hello", c, options);
  for (int fd : fillers) close(fd);
  close(listener);
  ASSERT_TRUE(c.failed);
  if (c.reason != FailureReason::kTimeout) {
    GTEST_SKIP() << "kernel accepted the connection anyway: " << c.detail;
  }
  EXPECT_EQ(c.reason, FailureReason::kTimeout) << c.detail;
}

TEST_F(HttpClientTest, LocalhostResolves) {
  base_ = *Url::parse("http://localhost:" + std::to_string(origin_->port()));
  Collector c;
  get("/echo", c);
  ASSERT_TRUE(c.complete) << c.detail;
  EXPECT_NE(c.body.find("Host: localhost:" + std::to_string(origin_->port())), std::string::npos);
}

TEST_F(HttpClientTest, UnresolvableHost) {
  base_ = *Url::parse("http://does-not-exist.invalid");
  RequestOptions options;
  options.connect_timeout = std::chrono::milliseconds(3000);
  Collector c;
  get("/hello", c, options);
  ASSERT_TRUE(c.failed);
  EXPECT_TRUE(c.reason == FailureReason::kDnsFailure || c.reason == FailureReason::kTimeout)
      << c.detail;
}

TEST_F(HttpClientTest, CancelBeforeStart) {
  Collector c;
  UpstreamRequest* request = client_->send(base_, "/hello", {}, c, {});
  request->cancel();
  runFor(dispatcher_, std::chrono::milliseconds(100));
  EXPECT_FALSE(c.done());
  EXPECT_EQ(impl().activeRequests(), 0u);
}

TEST_F(HttpClientTest, CancelInsideHeadersCallback) {
  Collector c;
  UpstreamRequest* request = client_->send(base_, "/big?size=1000000", {}, c, {});
  c.on_headers = [&] { request->cancel(); };
  ASSERT_TRUE(runUntil(dispatcher_, [&] { return c.headers != nullptr; }));
  runFor(dispatcher_, std::chrono::milliseconds(100));
  EXPECT_EQ(c.data_calls, 0);
  EXPECT_FALSE(c.done());
  EXPECT_EQ(impl().idleConnections(base_), 0u);  // mid-body: closed, not pooled
  EXPECT_EQ(fetch("/hello"), "hello\n");
}

TEST_F(HttpClientTest, CancelInsideDataCallback) {
  Collector c;
  UpstreamRequest* request = client_->send(base_, "/big?size=10000000", {}, c, {});
  size_t received = 0;
  c.on_data = [&](buffer::Buffer& data) {
    received += data.length();
    data.drain(data.length());
    if (received > 100000) request->cancel();
  };
  ASSERT_TRUE(runUntil(dispatcher_, [&] { return received > 100000; }));
  int calls = c.data_calls;
  runFor(dispatcher_, std::chrono::milliseconds(100));
  EXPECT_EQ(c.data_calls, calls);
  EXPECT_FALSE(c.done());
}

TEST_F(HttpClientTest, CancelInsideFinalCallbackIsHarmless) {
  Collector c;
  UpstreamRequest* request = client_->send(base_, "/hello", {}, c, {});
  c.on_data = [&](buffer::Buffer& data) {
    data.drain(data.length());
    request->cancel();
    request->readDisable(true);
  };
  ASSERT_TRUE(runUntil(dispatcher_, [&] { return c.done(); }));
  EXPECT_EQ(impl().idleConnections(base_), 1u);
}

TEST_F(HttpClientTest, BigBodyWithBackPressure) {
  testing::streamWithBackPressure(dispatcher_, *client_, base_, "/big?size=52428800", 52428800);
}

TEST_F(HttpClientTest, BigChunkedBodyWithBackPressure) {
  testing::streamWithBackPressure(dispatcher_, *client_, base_, "/big-chunked?size=20971520",
                                  20971520);
}

TEST_F(HttpClientTest, DestroyClientWithRequestsInFlight) {
  Collector a, b;
  client_->send(base_, "/slow-headers?ms=500", {}, a, {});
  client_->send(base_, "/big?size=10000000", {}, b, {});
  runFor(dispatcher_, std::chrono::milliseconds(50));
  // Destroying the client fires no callback of a request it had, even one
  // whose answer arrives later (the slow headers come after 500 ms; a loaded
  // machine may even have delivered them already: the counts hold either way).
  const int a_calls = a.callbacks;
  const int b_calls = b.callbacks;
  client_.reset();
  runFor(dispatcher_, std::chrono::milliseconds(700));
  EXPECT_EQ(a.callbacks, a_calls);
  EXPECT_EQ(b.callbacks, b_calls);
}

}  // namespace
}  // namespace modgate::upstream
