#include "source/filters/goproxy/shadow_sinks.h"

#include "source/common/crypto/buffer_hash.h"

namespace modgate::filters::goproxy {

crypto::Sha256Digest notFoundDigest() {
  static const crypto::Sha256Digest digest = crypto::Sha256::hash("modgate: 404/410, no content");
  return digest;
}

ServedDigestSink::ServedDigestSink(std::unique_ptr<FetchSink> inner, event::Dispatcher& dispatcher,
                                   std::shared_ptr<canary::ShadowComparator> comparator,
                                   canary::ArtifactKey key)
    : inner_(std::move(inner)),
      dispatcher_(dispatcher),
      comparator_(std::move(comparator)),
      key_(std::move(key)) {}

void ServedDigestSink::onFetchData(buffer::Buffer& data) {
  crypto::hashBuffer(data, sha_);
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
  crypto::hashBuffer(data, sha_);
  data.drain(data.length());
}

void ShadowSink::onFetchComplete(uint64_t) {
  comparator_->reportShadow(key_, sha_.finish(), dispatcher_.now());
}

void ShadowSink::onFetchNotFound(int, std::string) {
  comparator_->reportShadow(key_, notFoundDigest(), dispatcher_.now());
}

}  // namespace modgate::filters::goproxy
