#include "source/common/crypto/buffer_hash.h"

#include <sys/uio.h>

#include <vector>

namespace modgate::crypto {

void hashBuffer(const buffer::Buffer& data, Sha256& sha) {
  const size_t length = data.length();
  if (length == 0) return;
  int count = data.peek(nullptr, 0, length);
  if (count <= 0) return;
  std::vector<iovec> slices(static_cast<size_t>(count));
  count = data.peek(slices.data(), count, length);
  for (int i = 0; i < count; ++i) sha.update(slices[i].iov_base, slices[i].iov_len);
}

}  // namespace modgate::crypto
