#include "source/filters/goproxy/shadow_sinks.h"

#include <sys/uio.h>

#include <vector>

namespace modgate::filters::goproxy {

crypto::Sha256Digest notFoundDigest() {
  static const crypto::Sha256Digest digest = crypto::Sha256::hash("modgate: 404/410, no content");
  return digest;
}

void hashBuffer(const buffer::Buffer& data, crypto::Sha256& sha) {
  const size_t length = data.length();
  if (length == 0) return;
  int count = data.peek(nullptr, 0, length);
  if (count <= 0) return;
  std::vector<iovec> slices(static_cast<size_t>(count));
  count = data.peek(slices.data(), count, length);
  for (int i = 0; i < count; ++i) sha.update(slices[i].iov_base, slices[i].iov_len);
}

ServedDigestSink::ServedDigestSink(std::unique_ptr<FetchSink> inner, event::Dispatcher& dispatcher,
                                   std::shared_ptr<canary::ShadowComparator> comparator,
                                   canary::ArtifactKey key)
    : inner_(std::move(inner)),
      dispatcher_(dispatcher),
      comparator_(std::move(comparator)),
      key_(std::move(key)) {}

void ServedDigestSink::onFetchData(buffer::Buffer& data) {
  hashBuffer(data, sha_);
  inner_->onFetchData(data);
}

void ServedDigestSink::onFetchComplete(uint64_t total_bytes) {
  comparator_->reportServed(key_, sha_.finish(), dispatcher_.now());
  inner_->onFetchComplete(total_bytes);
}

void ServedDigestSink::onFetchNotFound(int status, std::string reason) {
  comparator_->reportServed(key_, notFoundDigest(), dispatcher_.now());
  inner_->onFetchNotFound(status, std::move(reason));
}

ShadowSink::ShadowSink(event::Dispatcher& dispatcher,
                       std::shared_ptr<canary::ShadowComparator> comparator,
                       canary::ArtifactKey key)
    : dispatcher_(dispatcher), comparator_(std::move(comparator)), key_(std::move(key)) {}

void ShadowSink::onFetchData(buffer::Buffer& data) {
  hashBuffer(data, sha_);
  data.drain(data.length());
}

void ShadowSink::onFetchComplete(uint64_t) {
  comparator_->reportShadow(key_, sha_.finish(), dispatcher_.now());
}

void ShadowSink::onFetchNotFound(int, std::string) {
  comparator_->reportShadow(key_, notFoundDigest(), dispatcher_.now());
}

}  // namespace modgate::filters::goproxy
