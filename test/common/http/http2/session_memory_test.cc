#include "source/common/http/http2/session_memory.h"

#include <cstdint>
#include <cstring>
#include <thread>
#include <vector>

#include "gtest/gtest.h"

namespace modgate::http::http2 {
namespace {

TEST(SessionMemoryTest, FreedSmallBlocksAreReusedAndBounded) {
  nghttp2_mem* mem = SessionMemory::get();
  const size_t before = SessionMemory::cachedBytes();
  void* a = mem->malloc(100, mem->mem_user_data);
  ASSERT_NE(a, nullptr);
  EXPECT_EQ(reinterpret_cast<uintptr_t>(a) % 16, 0u);
  std::memset(a, 0xab, 100);
  mem->free(a, mem->mem_user_data);
  EXPECT_EQ(SessionMemory::cachedBytes(), before + 128);  // two 64-byte classes
  // Same class: the block comes back.
  void* b = mem->malloc(120, mem->mem_user_data);
  EXPECT_EQ(b, a);
  EXPECT_EQ(SessionMemory::cachedBytes(), before);
  mem->free(b, mem->mem_user_data);

  // Never more than the bound on the lists.
  std::vector<void*> blocks;
  for (size_t i = 0; i < 2 * SessionMemory::kMaxCachedBytes / 1024; ++i) {
    blocks.push_back(mem->malloc(1000, mem->mem_user_data));
  }
  for (void* block : blocks) mem->free(block, mem->mem_user_data);
  EXPECT_LE(SessionMemory::cachedBytes(), SessionMemory::kMaxCachedBytes);
}

TEST(SessionMemoryTest, LargeBlocksZeroedBlocksAndReallocKeepContents) {
  nghttp2_mem* mem = SessionMemory::get();
  const size_t before = SessionMemory::cachedBytes();
  void* large = mem->malloc(64 * 1024, mem->mem_user_data);
  ASSERT_NE(large, nullptr);
  std::memset(large, 1, 64 * 1024);
  mem->free(large, mem->mem_user_data);
  EXPECT_EQ(SessionMemory::cachedBytes(), before);  // not kept
  mem->free(nullptr, mem->mem_user_data);

  auto* zeroed = static_cast<uint8_t*>(mem->calloc(10, 30, mem->mem_user_data));
  ASSERT_NE(zeroed, nullptr);
  for (size_t i = 0; i < 300; ++i) ASSERT_EQ(zeroed[i], 0) << i;
  EXPECT_EQ(mem->calloc(SIZE_MAX / 2, 4, mem->mem_user_data), nullptr);

  // Grows within its class, then past it and past the pooled sizes.
  for (size_t i = 0; i < 300; ++i) zeroed[i] = static_cast<uint8_t>(i);
  auto* grown = static_cast<uint8_t*>(mem->realloc(zeroed, 310, mem->mem_user_data));
  EXPECT_EQ(grown, zeroed);
  grown = static_cast<uint8_t*>(mem->realloc(grown, 700, mem->mem_user_data));
  grown = static_cast<uint8_t*>(mem->realloc(grown, 5000, mem->mem_user_data));
  ASSERT_NE(grown, nullptr);
  for (size_t i = 0; i < 300; ++i) ASSERT_EQ(grown[i], static_cast<uint8_t>(i)) << i;
  auto* shrunk = static_cast<uint8_t*>(mem->realloc(grown, 200, mem->mem_user_data));
  for (size_t i = 0; i < 200; ++i) ASSERT_EQ(shrunk[i], static_cast<uint8_t>(i)) << i;
  mem->free(shrunk, mem->mem_user_data);
  void* fresh = mem->realloc(nullptr, 50, mem->mem_user_data);
  ASSERT_NE(fresh, nullptr);
  mem->free(fresh, mem->mem_user_data);
}

TEST(SessionMemoryTest, EachThreadHasItsOwnLists) {
  nghttp2_mem* mem = SessionMemory::get();
  void* block = mem->malloc(64, mem->mem_user_data);
  size_t other_thread_cached = 1;
  std::thread other([&] {
    // Freed here: joins this thread's lists, which are emptied at its exit.
    mem->free(block, mem->mem_user_data);
    other_thread_cached = SessionMemory::cachedBytes();
  });
  other.join();
  EXPECT_EQ(other_thread_cached, 64u);
}

}  // namespace
}  // namespace modgate::http::http2
