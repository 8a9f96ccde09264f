#include "source/common/buffer/buffer.h"

#include <fcntl.h>
#include <unistd.h>

#include <cstdlib>
#include <string>

#include "gtest/gtest.h"

namespace modgate::buffer {
namespace {

TEST(BufferTest, AddMoveDrain) {
  Buffer a;
  a.add("hello ");
  a.add(std::string_view("world"));
  EXPECT_EQ(a.length(), 11u);
  Buffer b;
  b.move(a, 6);
  EXPECT_EQ(b.toString(), "hello ");
  EXPECT_EQ(a.toString(), "world");
  b.move(a);
  EXPECT_EQ(b.toString(), "hello world");
  EXPECT_EQ(a.length(), 0u);
  EXPECT_EQ(b.search("world"), 6);
  EXPECT_EQ(b.search("nope"), -1);
  b.drain(6);
  char out[5];
  EXPECT_EQ(b.copyOut(out, 5), 5u);
  EXPECT_EQ(std::string(out, 5), "world");
  EXPECT_EQ(b.length(), 5u);
}

TEST(BufferTest, SharedBodyStaysAliveUntilDrained) {
  auto body = std::make_shared<const std::string>(std::string(100000, 'x'));
  std::weak_ptr<const std::string> watch = body;
  {
    Buffer buffer;
    buffer.addShared(body);
    body.reset();
    EXPECT_FALSE(watch.expired());
    EXPECT_EQ(buffer.length(), 100000u);
    buffer.drain(50000);
    EXPECT_FALSE(watch.expired());
    buffer.drain(50000);
  }
  EXPECT_TRUE(watch.expired());
}

TEST(BufferTest, AddFileReadsTheRange) {
  std::string path =
      std::string(getenv("TEST_TMPDIR") ? getenv("TEST_TMPDIR") : "/tmp") + "/buffer_test_file";
  int fd = open(path.c_str(), O_CREAT | O_TRUNC | O_RDWR, 0600);
  ASSERT_GE(fd, 0);
  std::string content = "0123456789abcdef";
  ASSERT_EQ(write(fd, content.data(), content.size()), static_cast<ssize_t>(content.size()));
  Buffer buffer;
  ASSERT_TRUE(buffer.addFile(fd, 4, 8));  // takes the fd
  EXPECT_EQ(buffer.toString(), "456789ab");
  unlink(path.c_str());
}

TEST(BufferTest, MovedFromBufferIsEmptyAndSafe) {
  Buffer a;
  a.add("x");
  Buffer b(std::move(a));
  EXPECT_EQ(b.toString(), "x");
  Buffer c;
  c = std::move(b);
  EXPECT_EQ(c.toString(), "x");
}

}  // namespace
}  // namespace modgate::buffer
