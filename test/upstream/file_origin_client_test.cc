#include "source/upstream/file_origin_client.h"

#include <sys/stat.h>
#include <unistd.h>

#include <fstream>

#include "gtest/gtest.h"
#include "source/common/common/thread_pool.h"
#include "source/common/event/dispatcher_impl.h"
#include "test/upstream/test_support.h"

namespace modgate::upstream {
namespace {

using testing::Collector;
using testing::runFor;
using testing::runUntil;

class FileOriginClientTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = testing::tempDir() + "/tree";
    ::mkdir(root_.c_str(), 0755);
    ::mkdir((root_ + "/example.com").c_str(), 0755);
    ::mkdir((root_ + "/example.com/@v").c_str(), 0755);
    write("/example.com/@v/list", "v1.0.0\nv1.1.0\n");
    write("/example.com/@v/v1.0.0.mod", "module example.com\n");
    write("/example.com/@v/empty.info", "");
    base_ = *Url::parse("file://" + root_ + "/");
    client_ = createFileOriginClient(dispatcher_, pool_);
  }

  void TearDown() override {
    client_.reset();
    runFor(dispatcher_, std::chrono::milliseconds(0));
  }

  void write(const std::string& path, const std::string& body) {
    std::ofstream(root_ + path, std::ios::binary) << body;
  }

  void get(const std::string& path, Collector& collector, const RequestOptions& options = {}) {
    client_->send(base_, path, {}, collector, options);
    // Never from inside send().
    EXPECT_EQ(collector.callbacks, 0);
    ASSERT_TRUE(runUntil(dispatcher_, [&] { return collector.done(); })) << path;
  }

  event::DispatcherImpl dispatcher_{"test"};
  common::ThreadPool pool_{"files", 2};
  std::string root_;
  Url base_;
  std::unique_ptr<HttpClient> client_;
};

TEST_F(FileOriginClientTest, UrlNamesTheDirectory) {
  EXPECT_TRUE(base_.file());
  EXPECT_EQ(base_.path_prefix, root_);
  EXPECT_EQ(base_.authority(), "");
  EXPECT_FALSE(Url::parse("file://host/dir").ok());
  EXPECT_EQ(Url::parse("file:///").value().path_prefix, "");
}

TEST_F(FileOriginClientTest, ServesAFileAsAnOriginWould) {
  Collector c;
  get("/example.com/@v/list", c);
  ASSERT_TRUE(c.complete) << c.detail;
  EXPECT_EQ(c.headers->status, 200);
  EXPECT_EQ(c.body, "v1.0.0\nv1.1.0\n");
  EXPECT_EQ(c.header("content-length"), "14");
  EXPECT_NE(c.header("last-modified"), "");
  EXPECT_EQ(c.calls_after_done, 0);

  Collector empty;
  get("/example.com/@v/empty.info", empty);
  ASSERT_TRUE(empty.complete);
  EXPECT_TRUE(empty.headers_end_stream);
  EXPECT_EQ(empty.header("content-length"), "0");
}

TEST_F(FileOriginClientTest, HeadHasNoBody) {
  Collector c;
  RequestOptions head;
  head.method = "HEAD";
  get("/example.com/@v/v1.0.0.mod", c, head);
  ASSERT_TRUE(c.complete);
  EXPECT_TRUE(c.headers_end_stream);
  EXPECT_EQ(c.header("content-length"), "19");
  EXPECT_EQ(c.body, "");
}

TEST_F(FileOriginClientTest, MissingFilesAndDirectoriesAreNotFound) {
  for (const std::string path : {"/example.com/@v/v9.9.9.info", "/example.com/@v",
                                 "/example.com/@v/list/x", "/nothing/here"}) {
    Collector c;
    get(path, c);
    ASSERT_TRUE(c.complete) << path;
    EXPECT_EQ(c.headers->status, 404) << path;
    EXPECT_EQ(c.body, "not found: " + path + "\n");
    // The directory the tree lives in is never shown.
    EXPECT_EQ(c.body.find(root_), std::string::npos);
  }
}

TEST_F(FileOriginClientTest, PathsThatLeaveTheTreeAreRefused) {
  write("/../outside", "secret");
  for (const std::string& path :
       std::vector<std::string>{"/../outside", "/example.com/../../outside", "/./example.com",
                                "/a\\b", std::string("/a\0b", 4)}) {
    Collector c;
    get(path, c);
    ASSERT_TRUE(c.complete) << path;
    EXPECT_EQ(c.headers->status, 400) << path;
    EXPECT_EQ(c.body.find("secret"), std::string::npos);
  }
}

TEST_F(FileOriginClientTest, UnreadableFileIsAServerError) {
  if (::geteuid() == 0) GTEST_SKIP() << "root reads every file";
  write("/locked", "x");
  ::chmod((root_ + "/locked").c_str(), 0);
  Collector c;
  get("/locked", c);
  ASSERT_TRUE(c.complete);
  EXPECT_EQ(c.headers->status, 500);
  EXPECT_NE(c.body.find("Permission denied"), std::string::npos) << c.body;
}

TEST_F(FileOriginClientTest, BigBodyStreamsInChunksWithBackPressure) {
  constexpr size_t kSize = 24 * 1024 * 1024;
  {
    std::string body(kSize, '\0');
    for (size_t i = 0; i < kSize; ++i) body[i] = static_cast<char>(i % 251);
    write("/big.zip", body);
  }
  testing::streamWithBackPressure(dispatcher_, *client_, base_, "/big.zip", kSize);
}

TEST_F(FileOriginClientTest, CancelStopsEveryCallback) {
  write("/big.zip", std::string(4 * 1024 * 1024, 'z'));
  Collector c;
  UpstreamRequest* request = nullptr;
  c.on_data = [&](buffer::Buffer&) { request->cancel(); };
  request = client_->send(base_, "/big.zip", {}, c, {});
  ASSERT_TRUE(runUntil(dispatcher_, [&] { return c.data_calls > 0; }));
  const int callbacks = c.callbacks;
  // Reads already queued on the pool come back to nobody.
  runFor(dispatcher_, std::chrono::milliseconds(100));
  EXPECT_EQ(c.callbacks, callbacks);
  EXPECT_FALSE(c.complete);
}

TEST_F(FileOriginClientTest, DestroyingTheClientAbandonsItsRequests) {
  write("/big.zip", std::string(4 * 1024 * 1024, 'z'));
  Collector a, b;
  client_->send(base_, "/big.zip", {}, a, {});
  client_->send(base_, "/example.com/@v/list", {}, b, {});
  client_.reset();
  runFor(dispatcher_, std::chrono::milliseconds(100));
  EXPECT_EQ(a.callbacks, 0);
  EXPECT_EQ(b.callbacks, 0);
}

}  // namespace
}  // namespace modgate::upstream
