// Real-socket tests of the HTTP/1.1 server codec: a TestServer runs the codec
// on its own dispatcher thread; the tests talk to it with blocking sockets
// and curl.

#include <sys/wait.h>

#include <cstdio>
#include <string>
#include <thread>

#include "gtest/gtest.h"
#include "test/common/http/http1/raw_client.h"
#include "test/common/http/http1/test_server.h"

namespace modgate::http::http1::testing {
namespace {

std::string get(std::string_view path, std::string_view extra_headers = "") {
  return "GET " + std::string(path) + " HTTP/1.1\r\nHost: test\r\n" + std::string(extra_headers) +
         "\r\n";
}

class ServerConnectionTest : public ::testing::Test {
 protected:
  void start(const CodecSettings& settings = CodecSettings()) {
    server_ = std::make_unique<TestServer>(settings);
  }
  void SetUp() override { start(); }

  std::unique_ptr<TestServer> server_;
};

TEST_F(ServerConnectionTest, SimpleGet) {
  RawClient client(server_->port());
  ASSERT_TRUE(client.connected());
  ASSERT_TRUE(
      client.send("GET /hello HTTP/1.1\r\nHost: Test.Example\r\nUser-Agent: T\r\n"
                  "X-Multi: a\r\nX-Multi: b  \r\n\r\n"));
  auto response = client.readResponse();
  ASSERT_TRUE(response);
  EXPECT_EQ(response->status, 200);
  EXPECT_EQ(response->reason, "OK");
  EXPECT_EQ(response->body, "hello");
  EXPECT_EQ(response->header("content-length"), "5");
  EXPECT_EQ(response->header("content-type"), "text/plain");
  EXPECT_FALSE(response->header("connection"));
  auto date = response->header("date");
  ASSERT_TRUE(date);
  EXPECT_EQ(date->size(), 29u);
  // Names folded to lower-case, Host moved to the authority, values trimmed.
  EXPECT_TRUE(server_->events().waitFor(
      "request:GET /hello Test.Example http user-agent=T x-multi=a x-multi=b"))
      << ::testing::PrintToString(server_->events().snapshot());
}

TEST_F(ServerConnectionTest, KeepAliveSequential) {
  RawClient client(server_->port());
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(client.send(get("/p/" + std::to_string(i))));
    auto response = client.readResponse();
    ASSERT_TRUE(response) << i;
    EXPECT_EQ(response->body, "/p/" + std::to_string(i));
    EXPECT_FALSE(response->header("connection"));
  }
  EXPECT_EQ(server_->acceptedConnections(), 1);
}

TEST_F(ServerConnectionTest, HundredPipelinedAnsweredInOrder) {
  // Every seventh answer is delayed, so order is only kept if the codec
  // really holds later requests back.
  std::string requests;
  std::vector<std::string> paths;
  for (int i = 0; i < 100; ++i) {
    paths.push_back((i % 7 == 3 ? "/slow/" : "/p/") + std::to_string(i));
    requests += get(paths.back());
  }
  RawClient client(server_->port());
  ASSERT_TRUE(client.send(requests));
  for (int i = 0; i < 100; ++i) {
    auto response = client.readResponse();
    ASSERT_TRUE(response) << i;
    EXPECT_EQ(response->body, paths[i]);
  }
}

TEST_F(ServerConnectionTest, ThousandPipelinedWithHeldInputBeyondLimit) {
  // ~150 KiB of requests: more than the codec holds before it stops reading,
  // and far more than any recursive resume could survive.
  const std::string padding = "x-pad: " + std::string(100, 'p') + "\r\n";
  std::string requests;
  for (int i = 0; i < 1000; ++i) {
    requests += get((i == 0 ? "/slow/" : "/p/") + std::to_string(i), padding);
  }
  ASSERT_GT(requests.size(), 128u * 1024);
  RawClient client(server_->port());
  std::thread writer([&] { client.send(requests); });
  int answered = 0;
  for (int i = 0; i < 1000; ++i) {
    auto response = client.readResponse();
    if (!response) break;
    EXPECT_EQ(response->body, (i == 0 ? "/slow/" : "/p/") + std::to_string(i));
    ++answered;
  }
  writer.join();
  EXPECT_EQ(answered, 1000);
}

TEST_F(ServerConnectionTest, PipelinedRunIsCapped) {
  CodecSettings settings;
  settings.max_pipelined_requests = 5;
  start(settings);
  std::string requests;
  for (int i = 0; i < 10; ++i) requests += get("/p/" + std::to_string(i));
  RawClient client(server_->port());
  ASSERT_TRUE(client.send(requests));
  // The first request and five pipelined behind it; the fifth says close.
  for (int i = 0; i < 6; ++i) {
    auto response = client.readResponse();
    ASSERT_TRUE(response) << i;
    EXPECT_EQ(response->body, "/p/" + std::to_string(i));
    EXPECT_EQ(response->header("connection").has_value(), i == 5) << i;
  }
  EXPECT_TRUE(client.waitForClose());

  // A client that waits for each answer is never pipelining, whether the
  // answers come at once or later from the event loop.
  RawClient sequential(server_->port());
  for (int i = 0; i < 12; ++i) {
    const std::string path = (i % 2 == 0 ? "/p/" : "/slow/") + std::to_string(i);
    ASSERT_TRUE(sequential.send(get(path)));
    auto response = sequential.readResponse();
    ASSERT_TRUE(response) << i;
    EXPECT_EQ(response->body, path);
    EXPECT_FALSE(response->header("connection")) << i;
  }
}

TEST_F(ServerConnectionTest, PipelinedRunBehindSlowAnswersIsCapped) {
  CodecSettings settings;
  settings.max_pipelined_requests = 5;
  start(settings);
  // Every answer comes later from the event loop, so the requests behind it
  // are held and parsed when it completes: still pipelined.
  std::string requests;
  for (int i = 0; i < 10; ++i) requests += get("/slow/" + std::to_string(i));
  RawClient client(server_->port());
  ASSERT_TRUE(client.send(requests));
  for (int i = 0; i < 6; ++i) {
    auto response = client.readResponse();
    ASSERT_TRUE(response) << i;
    EXPECT_EQ(response->body, "/slow/" + std::to_string(i));
    EXPECT_EQ(response->header("connection").has_value(), i == 5) << i;
  }
  EXPECT_TRUE(client.waitForClose());
}

TEST_F(ServerConnectionTest, HeadHasContentLengthButNoBody) {
  RawClient client(server_->port());
  ASSERT_TRUE(client.send("HEAD /hello HTTP/1.1\r\nHost: t\r\n\r\n" + get("/p/after")));
  auto head = client.readResponse(/*head_request=*/true);
  ASSERT_TRUE(head);
  EXPECT_EQ(head->status, 200);
  EXPECT_EQ(head->header("content-length"), "5");
  // The next response starts right after the head: no body bytes leaked.
  auto next = client.readResponse();
  ASSERT_TRUE(next);
  EXPECT_EQ(next->body, "/p/after");
}

TEST_F(ServerConnectionTest, ChunkedResponseFraming) {
  RawClient client(server_->port());
  ASSERT_TRUE(client.send(get("/chunked")));
  auto head = client.readExactly(1);  // wait for the first bytes
  ASSERT_TRUE(head);
  std::string raw = *head;
  // Read everything up to the end of the last chunk.
  while (raw.find("0\r\n\r\n") == std::string::npos) {
    auto more = client.readExactly(1);
    ASSERT_TRUE(more) << raw;
    raw += *more;
  }
  EXPECT_NE(raw.find("transfer-encoding: chunked\r\n"), std::string::npos) << raw;
  EXPECT_EQ(raw.find("content-length"), std::string::npos) << raw;
  size_t body = raw.find("\r\n\r\n");
  ASSERT_NE(body, std::string::npos);
  EXPECT_EQ(raw.substr(body + 4), "3\r\nabc\r\n5\r\ndefgh\r\n0\r\n\r\n");
  // Still keep-alive.
  ASSERT_TRUE(client.send(get("/hello")));
  auto response = client.readResponse();
  ASSERT_TRUE(response);
  EXPECT_EQ(response->body, "hello");
}

TEST_F(ServerConnectionTest, EndStreamHeadersGetContentLengthZero) {
  RawClient client(server_->port());
  ASSERT_TRUE(client.send(get("/empty") + get("/nocontent")));
  auto response = client.readResponse();
  ASSERT_TRUE(response);
  EXPECT_EQ(response->status, 200);
  EXPECT_EQ(response->header("content-length"), "0");
  auto no_content = client.readResponse();
  ASSERT_TRUE(no_content);
  EXPECT_EQ(no_content->status, 204);
  EXPECT_FALSE(no_content->header("content-length"));
  EXPECT_FALSE(no_content->header("transfer-encoding"));
}

TEST_F(ServerConnectionTest, ConnectionCloseIsHonoured) {
  RawClient client(server_->port());
  // The request after the "close" one must go unanswered.
  ASSERT_TRUE(client.send(get("/hello", "Connection: close\r\n") + get("/p/ignored")));
  auto response = client.readResponse();
  ASSERT_TRUE(response);
  EXPECT_EQ(response->body, "hello");
  EXPECT_EQ(response->header("connection"), "close");
  EXPECT_TRUE(client.waitForClose());
  EXPECT_EQ(server_->events().count("request:GET /p/ignored"), 0);
}

TEST_F(ServerConnectionTest, Http10ClosesByDefault) {
  RawClient client(server_->port());
  ASSERT_TRUE(client.send("GET /hello HTTP/1.0\r\n\r\n"));
  auto response = client.readResponse();
  ASSERT_TRUE(response);
  EXPECT_EQ(response->body, "hello");
  EXPECT_EQ(response->header("connection"), "close");
  EXPECT_TRUE(client.waitForClose());
}

TEST_F(ServerConnectionTest, Http10KeepAlive) {
  RawClient client(server_->port());
  ASSERT_TRUE(client.send("GET /hello HTTP/1.0\r\nConnection: keep-alive\r\n\r\n"));
  auto response = client.readResponse();
  ASSERT_TRUE(response);
  EXPECT_EQ(response->header("connection"), "keep-alive");
  // No chunked encoding for HTTP/1.0: the body ends with the connection.
  ASSERT_TRUE(client.send("GET /chunked HTTP/1.0\r\nConnection: keep-alive\r\n\r\n"));
  auto chunked = client.readResponse();
  ASSERT_TRUE(chunked);
  EXPECT_FALSE(chunked->header("transfer-encoding"));
  EXPECT_EQ(chunked->header("connection"), "close");
  EXPECT_EQ(chunked->body, "abcdefgh");
  EXPECT_EQ(server_->acceptedConnections(), 1);
}

// Sends `request` and expects an error response with `status` whose
// text/plain body contains `reason`, then the close.
void expectError(TestServer& server, const std::string& request, int status,
                 std::string_view reason) {
  RawClient client(server.port());
  ASSERT_TRUE(client.send(request));
  auto response = client.readResponse();
  ASSERT_TRUE(response) << request;
  EXPECT_EQ(response->status, status) << request;
  EXPECT_EQ(response->header("content-type"), "text/plain; charset=utf-8");
  EXPECT_EQ(response->header("connection"), "close");
  EXPECT_NE(response->body.find(reason), std::string::npos) << response->body;
  EXPECT_TRUE(client.waitForClose()) << request;
}

TEST_F(ServerConnectionTest, MalformedRequestGets400) {
  expectError(*server_, "GET / HTTP/1.1\r\nHost: t\r\nBad Header: x\r\n\r\n", 400,
              "bad request: invalid header");
  expectError(*server_, "GET / HTTP/1.1\r\nHost: t\r\nno-colon\r\n\r\n", 400, "bad request");
  expectError(*server_, "GET / HTTX/1.1\r\n\r\n", 400, "bad request");
  expectError(*server_, "FOO / HTTP/1.1\r\nHost: t\r\n\r\n", 400, "bad request: invalid method");
  expectError(*server_, "GET /hello HTTP/1.1\r\n\r\n", 400, "missing host");
  expectError(*server_, "GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", 400, "multiple host");
  expectError(*server_, "GET * HTTP/1.1\r\nHost: t\r\n\r\n", 400, "invalid request target");
  // A valid request pipelined before the bad one is still answered first.
  RawClient client(server_->port());
  ASSERT_TRUE(client.send(get("/hello") + "GET / HTTP/1.1\r\nHost t\r\n\r\n"));
  auto first = client.readResponse();
  ASSERT_TRUE(first);
  EXPECT_EQ(first->body, "hello");
  auto error = client.readResponse();
  ASSERT_TRUE(error);
  EXPECT_EQ(error->status, 400);
  EXPECT_TRUE(client.waitForClose());
}

TEST_F(ServerConnectionTest, TooManyHeadersGets431) {
  CodecSettings settings;
  settings.max_headers_count = 10;
  start(settings);
  std::string headers;
  for (int i = 0; i < 11; ++i) headers += "x-h" + std::to_string(i) + ": v\r\n";
  expectError(*server_, get("/hello", headers), 431, "too many");
  // Exactly at the limit is fine (Host is one of them).
  RawClient client(server_->port());
  std::string ok_headers;
  for (int i = 0; i < 9; ++i) ok_headers += "x-h" + std::to_string(i) + ": v\r\n";
  ASSERT_TRUE(client.send(get("/hello", ok_headers)));
  auto response = client.readResponse();
  ASSERT_TRUE(response);
  EXPECT_EQ(response->status, 200);
}

TEST_F(ServerConnectionTest, OversizedHeadersGet431) {
  CodecSettings settings;
  settings.max_request_headers_kb = 1;
  start(settings);
  expectError(*server_, get("/hello", "x-big: " + std::string(2000, 'b') + "\r\n"), 431,
              "too large");
}

TEST_F(ServerConnectionTest, GetWithBodyIsRefused) {
  expectError(*server_, get("/hello", "Content-Length: 5\r\n") + "hello", 400, "with a body");
  expectError(*server_, get("/hello", "Transfer-Encoding: chunked\r\n") + "5\r\nhello\r\n0\r\n\r\n",
              400, "with a body");
  // Content-Length: 0 is no body.
  RawClient client(server_->port());
  ASSERT_TRUE(client.send(get("/hello", "Content-Length: 0\r\n")));
  auto response = client.readResponse();
  ASSERT_TRUE(response);
  EXPECT_EQ(response->status, 200);
}

TEST_F(ServerConnectionTest, PostBodyPassesThrough) {
  RawClient client(server_->port());
  ASSERT_TRUE(
      client.send("POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 11\r\n\r\nhello world"
                  "POST /echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n"
                  "3\r\nabc\r\n4\r\ndefg\r\n0\r\n\r\n"
                  "PUT /other HTTP/1.1\r\nHost: t\r\nContent-Length: 3\r\n\r\nxyz" +
                  get("/hello")));
  auto first = client.readResponse();
  ASSERT_TRUE(first);
  EXPECT_EQ(first->body, "hello world");
  auto second = client.readResponse();
  ASSERT_TRUE(second);
  EXPECT_EQ(second->body, "abcdefg");
  auto third = client.readResponse();
  ASSERT_TRUE(third);
  EXPECT_EQ(third->status, 405);
  auto fourth = client.readResponse();
  ASSERT_TRUE(fourth);
  EXPECT_EQ(fourth->body, "hello");
  EXPECT_TRUE(server_->events().waitFor("body:/echo:11"));
  EXPECT_TRUE(server_->events().waitFor("body:/echo:7"));
}

TEST_F(ServerConnectionTest, ResponseBeforeRequestBodyDropsTheRest) {
  // PUT is refused from its headers; its body arrives afterwards, in pieces,
  // and must be skipped without reaching the finished stream.
  RawClient client(server_->port());
  ASSERT_TRUE(client.send("PUT /x HTTP/1.1\r\nHost: t\r\nContent-Length: 10\r\n\r\n"));
  auto refused = client.readResponse();
  ASSERT_TRUE(refused);
  EXPECT_EQ(refused->status, 405);
  ASSERT_TRUE(client.send("01234"));
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  ASSERT_TRUE(client.send("56789" + get("/hello")));
  auto next = client.readResponse();
  ASSERT_TRUE(next);
  EXPECT_EQ(next->body, "hello");
  EXPECT_EQ(server_->events().count("body:"), 0);
}

TEST_F(ServerConnectionTest, RequestArrivingByteByByte) {
  RawClient client(server_->port());
  const std::string request =
      get("/p/split", "Accept: text/plain\r\nX-Long-Header-Name: value\r\n");
  for (char c : request) {
    ASSERT_TRUE(client.send(std::string_view(&c, 1)));
    std::this_thread::sleep_for(std::chrono::microseconds(300));
  }
  auto response = client.readResponse();
  ASSERT_TRUE(response);
  EXPECT_EQ(response->body, "/p/split");
  EXPECT_TRUE(server_->events().waitFor(
      "request:GET /p/split test http accept=text/plain x-long-header-name=value"))
      << ::testing::PrintToString(server_->events().snapshot());
}

TEST_F(ServerConnectionTest, OversizedBodyGets413) {
  CodecSettings settings;
  settings.max_request_body_bytes = 10;
  start(settings);
  expectError(*server_, "POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 11\r\n\r\nhello world",
              413, "too large");
  // Chunked: the limit trips mid-body, after the stream started.
  expectError(*server_,
              "POST /echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n"
              "8\r\n12345678\r\n8\r\n12345678\r\n0\r\n\r\n",
              413, "too large");
  EXPECT_TRUE(server_->events().waitFor("reset:/echo:protocol"));
}

TEST_F(ServerConnectionTest, AbsoluteFormAndAsteriskTargets) {
  RawClient client(server_->port());
  ASSERT_TRUE(
      client.send("GET http://example.com:8080/p/abs?x=1 HTTP/1.1\r\nHost: other\r\n\r\n"
                  "OPTIONS * HTTP/1.1\r\nHost: t\r\n\r\n"));
  auto response = client.readResponse();
  ASSERT_TRUE(response);
  EXPECT_EQ(response->body, "/p/abs?x=1");
  EXPECT_TRUE(server_->events().waitFor("request:GET /p/abs?x=1 example.com:8080 http"))
      << ::testing::PrintToString(server_->events().snapshot());
  auto options = client.readResponse();
  ASSERT_TRUE(options);
  EXPECT_EQ(options->status, 405);  // passed through; the layer above refuses
}

constexpr std::string_view kPreface = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";

TEST_F(ServerConnectionTest, H2cUpgrade) {
  RawClient client(server_->port());
  ASSERT_TRUE(
      client.send("GET /p/up HTTP/1.1\r\nHost: t\r\nConnection: Upgrade, HTTP2-Settings\r\n"
                  "Upgrade: h2c\r\nHTTP2-Settings: AAMAAABkAARAAAAAAAIAAAAA\r\n\r\n" +
                  std::string(kPreface)));
  const std::string expected =
      "HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: h2c\r\n\r\n";
  auto head = client.readExactly(expected.size());
  ASSERT_TRUE(head);
  EXPECT_EQ(*head, expected);
  EXPECT_TRUE(
      server_->events().waitFor("upgrade:GET /p/up t settings=AAMAAABkAARAAAAAAAIAAAAA"
                                " rest=" +
                                std::string(kPreface) + " has_upgrade_header=no"))
      << ::testing::PrintToString(server_->events().snapshot());
  // No HTTP/1.1 stream was created for it.
  EXPECT_EQ(server_->events().count("request:"), 0);
}

TEST_F(ServerConnectionTest, H2cUpgradeIgnoredWhenDisabledOrIncomplete) {
  CodecSettings settings;
  settings.allow_h2c_upgrade = false;
  start(settings);
  const std::string upgrade =
      "GET /hello HTTP/1.1\r\nHost: t\r\nConnection: Upgrade, HTTP2-Settings\r\n"
      "Upgrade: h2c\r\nHTTP2-Settings: AAMAAABkAARAAAAAAAIAAAAA\r\n\r\n";
  RawClient client(server_->port());
  ASSERT_TRUE(client.send(upgrade));
  auto response = client.readResponse();
  ASSERT_TRUE(response);
  EXPECT_EQ(response->status, 200);
  EXPECT_EQ(response->body, "hello");

  // Allowed, but HTTP2-Settings is missing from Connection: plain HTTP/1.1.
  start(CodecSettings());
  RawClient other(server_->port());
  ASSERT_TRUE(
      other.send("GET /hello HTTP/1.1\r\nHost: t\r\nConnection: Upgrade\r\nUpgrade: h2c\r\n"
                 "HTTP2-Settings: AAMAAABkAARAAAAAAAIAAAAA\r\n\r\n" +
                 get("/p/next")));
  auto plain = other.readResponse();
  ASSERT_TRUE(plain);
  EXPECT_EQ(plain->status, 200);
  auto next = other.readResponse();
  ASSERT_TRUE(next);
  EXPECT_EQ(next->body, "/p/next");
  EXPECT_EQ(server_->events().count("upgrade:"), 0);
}

TEST_F(ServerConnectionTest, ClientCloseMidResponseResetsStream) {
  {
    RawClient client(server_->port());
    ASSERT_TRUE(client.send(get("/hang")));
    auto partial = client.readExactly(1);
    ASSERT_TRUE(partial);
  }
  EXPECT_TRUE(server_->events().waitFor("reset:/hang:termination"))
      << ::testing::PrintToString(server_->events().snapshot());
}

TEST_F(ServerConnectionTest, ResetStreamClosesConnection) {
  RawClient client(server_->port());
  ASSERT_TRUE(client.send(get("/reset")));
  std::string rest;
  EXPECT_TRUE(client.readUntilClose(rest));
  EXPECT_TRUE(server_->events().waitFor("reset:/reset:local"));
}

TEST_F(ServerConnectionTest, SlowReaderDrivesWatermarks) {
  CodecSettings settings;
  settings.stream_write_buffer_high_watermark = 512 * 1024;
  start(settings);
  RawClient client(server_->port(), /*receive_buffer=*/16 * 1024);
  ASSERT_TRUE(client.send(get("/big")));
  // Let the server fill the socket and its own buffer before reading.
  EXPECT_TRUE(server_->events().waitFor("above:/big"));
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  auto response = client.readResponse();
  ASSERT_TRUE(response);
  ASSERT_EQ(response->body.size(), 5u * 1024 * 1024);
  bool pattern_ok = true;
  for (size_t i = 0; i < response->body.size() && pattern_ok; ++i) {
    pattern_ok = response->body[i] == static_cast<char>('a' + (i % (256 * 1024)) % 26);
  }
  EXPECT_TRUE(pattern_ok);
  EXPECT_TRUE(server_->events().waitFor("complete:/big"));
  EXPECT_GE(server_->events().count("above:/big"), 1);
  EXPECT_GE(server_->events().count("below:/big"), 1);
  // The connection is reusable afterwards.
  ASSERT_TRUE(client.send(get("/hello")));
  auto next = client.readResponse();
  ASSERT_TRUE(next);
  EXPECT_EQ(next->body, "hello");
}

TEST_F(ServerConnectionTest, ShutdownNoticeClosesAfterCurrentResponse) {
  RawClient client(server_->port());
  ASSERT_TRUE(client.send(get("/slower")));
  ASSERT_FALSE(server_->events().waitForPrefix("request:GET /slower").empty());
  server_->shutdownNoticeAll();
  auto response = client.readResponse();
  ASSERT_TRUE(response);
  EXPECT_EQ(response->body, "slower");
  EXPECT_EQ(response->header("connection"), "close");
  EXPECT_TRUE(client.waitForClose());
}

// Runs `command` and returns its standard output.
std::string run(const std::string& command) {
  std::string out;
  FILE* pipe = popen(command.c_str(), "r");
  if (pipe == nullptr) return out;
  char buffer[4096];
  size_t n;
  while ((n = fread(buffer, 1, sizeof(buffer), pipe)) > 0) out.append(buffer, n);
  pclose(pipe);
  return out;
}

TEST_F(ServerConnectionTest, CurlSanity) {
  const std::string base = "http://127.0.0.1:" + std::to_string(server_->port());
  std::string out = run("curl -s -i --max-time 10 " + base + "/hello");
  EXPECT_EQ(out.substr(0, 15), "HTTP/1.1 200 OK") << out;
  EXPECT_EQ(out.substr(out.size() - 5), "hello") << out;
  // Two URLs in one curl run share the kept-alive connection.
  const int before = server_->acceptedConnections();
  out = run("curl -s --max-time 10 " + base + "/p/one " + base + "/chunked");
  EXPECT_EQ(out, "/p/oneabcdefgh");
  EXPECT_EQ(server_->acceptedConnections(), before + 1);
  // HEAD through curl.
  out = run("curl -s -I --max-time 10 " + base + "/hello");
  EXPECT_NE(out.find("content-length: 5"), std::string::npos) << out;
}

}  // namespace
}  // namespace modgate::http::http1::testing
