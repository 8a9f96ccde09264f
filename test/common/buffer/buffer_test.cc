#include "source/common/buffer/buffer.h"

#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
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

TEST(BufferTest, AddInPlaceAppendsWhatTheProducerWrote) {
  Buffer buffer;
  buffer.add("head:");
  // A block bigger than any chain libevent keeps spare: still contiguous.
  const size_t big = 100 * 1000;
  EXPECT_EQ(buffer.addInPlace(big,
                              [](uint8_t* block, size_t length) {
                                memset(block, 'x', length);
                                return length;
                              }),
            big);
  // The producer may write less than it was offered; the rest is given back.
  EXPECT_EQ(buffer.addInPlace(64,
                              [](uint8_t* block, size_t) {
                                memcpy(block, ":tail", 5);
                                return size_t{5};
                              }),
            5u);
  EXPECT_EQ(buffer.addInPlace(0, [](uint8_t*, size_t) { return size_t{1}; }), 0u);
  EXPECT_EQ(buffer.length(), 5 + big + 5);
  EXPECT_EQ(buffer.toString(), "head:" + std::string(big, 'x') + ":tail");
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

// A buffer that never held a byte has no evbuffer yet: every operation
// still behaves as on an empty one, and the first write creates it.
TEST(BufferTest, NeverWrittenBufferBehavesAsEmpty) {
  Buffer empty;
  EXPECT_EQ(empty.length(), 0u);
  empty.drain(10);
  char out[4];
  EXPECT_EQ(empty.copyOut(out, sizeof(out)), 0u);
  iovec vecs[2];
  EXPECT_EQ(empty.peek(vecs, 2, 10), 0);
  EXPECT_EQ(empty.search("x"), -1);
  EXPECT_EQ(empty.toString(), "");
  int pair[2];
  ASSERT_EQ(socketpair(AF_UNIX, SOCK_STREAM, 0, pair), 0);
  EXPECT_EQ(empty.writeTo(pair[0]), 0);
  ::close(pair[0]);
  ::close(pair[1]);

  Buffer target;
  target.move(empty);
  target.move(empty, 0);
  EXPECT_EQ(target.length(), 0u);
  empty.add("late");
  target.move(empty);
  EXPECT_EQ(target.toString(), "late");
  EXPECT_EQ(empty.length(), 0u);
  Buffer raw;
  EXPECT_NE(raw.raw(), nullptr);
}

// A temp file holding `content`, opened for reading.
std::shared_ptr<const FileHandle> TempFile(const std::string& content) {
  char path[] = "/tmp/buffer_test.XXXXXX";
  const int fd = mkstemp(path);
  EXPECT_GE(fd, 0);
  unlink(path);
  EXPECT_EQ(::write(fd, content.data(), content.size()), static_cast<ssize_t>(content.size()));
  return std::make_shared<const FileHandle>(fd);
}

// Writes all of `buffer` to one end of a socket pair; returns what the other
// end received.
std::string WriteAll(Buffer& buffer) {
  int pair[2];
  EXPECT_EQ(socketpair(AF_UNIX, SOCK_STREAM, 0, pair), 0);
  int calls = 0;
  while (buffer.length() > 0 && calls++ < 100) {
    const int n = buffer.writeTo(pair[0]);
    EXPECT_GT(n, 0) << strerror(errno);
    if (n <= 0) break;
  }
  ::close(pair[0]);
  std::string received;
  char chunk[4096];
  ssize_t n;
  while ((n = ::read(pair[1], chunk, sizeof(chunk))) > 0) received.append(chunk, n);
  ::close(pair[1]);
  return received;
}

TEST(BufferTest, WriteToSendsMemoryAndSendfileRangesInOrder) {
  const std::string a(5000, 'a'), b = "0123456789";
  auto file_a = TempFile(a), file_b = TempFile(b);
  // Two pipelined responses: head, file, head, file (each head goes with
  // MSG_MORE ahead of its file; the second is written untracked).
  Buffer out;
  out.add("HEAD1\r\n");
  ASSERT_TRUE(out.addFileRange(file_a, 100, 4000, /*sendfile=*/true));
  Buffer second;
  second.add("HEAD2\r\n");
  ASSERT_TRUE(second.addFileRange(file_b, 2, 5, /*sendfile=*/true));
  second.add("!");
  out.move(second);
  EXPECT_EQ(second.length(), 0u);
  EXPECT_EQ(WriteAll(out), "HEAD1\r\n" + a.substr(100, 4000) + "HEAD2\r\n23456!");
}

TEST(BufferTest, WriteToAfterPartialMovesAndDrains) {
  const std::string content(3000, 'z');
  auto file = TempFile(content);
  Buffer source;
  source.add("xxhead");
  ASSERT_TRUE(source.addFileRange(file, 0, 3000, /*sendfile=*/true));
  source.add("tail");
  source.drain(2);  // still before the range
  Buffer front;
  front.move(source, 4);  // memory only: "head"
  EXPECT_EQ(front.toString(), "head");
  EXPECT_EQ(WriteAll(source), content + "tail");

  // Drained past the first range: the next one's place is not tracked, and
  // the rest still goes out right.
  Buffer two;
  two.add("a");
  ASSERT_TRUE(two.addFileRange(file, 0, 10, /*sendfile=*/true));
  two.add("b");
  ASSERT_TRUE(two.addFileRange(file, 0, 20, /*sendfile=*/true));
  two.drain(11);
  EXPECT_EQ(WriteAll(two), "b" + content.substr(0, 20));
}

}  // namespace
}  // namespace modgate::buffer
