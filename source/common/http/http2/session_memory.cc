#include "source/common/http/http2/session_memory.h"

#include <cstdint>
#include <cstdlib>
#include <cstring>

namespace modgate::http::http2 {
namespace {

constexpr size_t kClasses = SessionMemory::kMaxPooledBytes / SessionMemory::kClassBytes;

// In front of every block: its class (1..kClasses), or 0 for a block sized
// exactly by malloc, whose size follows. 16 bytes keep the block aligned as
// malloc's own.
struct alignas(16) BlockHeader {
  size_t size_class;
  size_t size;  // what was asked for: realloc copies at most this much
};
static_assert(sizeof(BlockHeader) == 16);

struct FreeBlock {
  FreeBlock* next;
};

// Trivially destructible, so it stays usable while the thread's other
// thread_local objects are destroyed (a session freed then goes straight
// back to malloc); FreeListsReaper empties it at thread exit.
struct FreeLists {
  FreeBlock* heads[kClasses];
  size_t cached_bytes;
  bool closed;
};

thread_local FreeLists free_lists{};

struct FreeListsReaper {
  ~FreeListsReaper() {
    for (FreeBlock*& head : free_lists.heads) {
      while (head != nullptr) {
        FreeBlock* next = head->next;
        std::free(reinterpret_cast<BlockHeader*>(head) - 1);
        head = next;
      }
    }
    free_lists.cached_bytes = 0;
    free_lists.closed = true;
  }
};

BlockHeader* headerOf(void* block) { return static_cast<BlockHeader*>(block) - 1; }

void* allocate(size_t size, void*) {
  const size_t size_class = (size + SessionMemory::kClassBytes - 1) / SessionMemory::kClassBytes;
  BlockHeader* header;
  if (size_class == 0 || size_class > kClasses) {
    header = static_cast<BlockHeader*>(std::malloc(sizeof(BlockHeader) + size));
    if (header == nullptr) return nullptr;
    header->size_class = 0;
  } else if (FreeBlock* block = free_lists.heads[size_class - 1]; block != nullptr) {
    free_lists.heads[size_class - 1] = block->next;
    free_lists.cached_bytes -= size_class * SessionMemory::kClassBytes;
    header = headerOf(block);
  } else {
    header = static_cast<BlockHeader*>(
        std::malloc(sizeof(BlockHeader) + size_class * SessionMemory::kClassBytes));
    if (header == nullptr) return nullptr;
    header->size_class = size_class;
  }
  header->size = size;
  return header + 1;
}

void release(void* block, void*) {
  if (block == nullptr) return;
  BlockHeader* header = headerOf(block);
  const size_t bytes = header->size_class * SessionMemory::kClassBytes;
  if (header->size_class == 0 || free_lists.closed ||
      free_lists.cached_bytes + bytes > SessionMemory::kMaxCachedBytes) {
    std::free(header);
    return;
  }
  // Constructed on this thread's first caching free: registers the cleanup.
  static thread_local FreeListsReaper reaper;
  (void)reaper;
  auto* free_block = static_cast<FreeBlock*>(block);
  free_block->next = free_lists.heads[header->size_class - 1];
  free_lists.heads[header->size_class - 1] = free_block;
  free_lists.cached_bytes += bytes;
}

void* allocateZeroed(size_t count, size_t size, void* user_data) {
  if (size != 0 && count > SIZE_MAX / size) return nullptr;
  void* block = allocate(count * size, user_data);
  if (block != nullptr) std::memset(block, 0, count * size);
  return block;
}

void* reallocate(void* block, size_t size, void* user_data) {
  if (block == nullptr) return allocate(size, user_data);
  BlockHeader* header = headerOf(block);
  if (header->size_class != 0 && size <= header->size_class * SessionMemory::kClassBytes) {
    header->size = size;  // still fits its class
    return block;
  }
  void* moved = allocate(size, user_data);
  if (moved == nullptr) return nullptr;
  std::memcpy(moved, block, header->size < size ? header->size : size);
  release(block, user_data);
  return moved;
}

nghttp2_mem session_memory{nullptr, &allocate, &release, &allocateZeroed, &reallocate};

}  // namespace

nghttp2_mem* SessionMemory::get() { return &session_memory; }

size_t SessionMemory::cachedBytes() { return free_lists.cached_bytes; }

}  // namespace modgate::http::http2
