#pragma once

#include <memory>
#include <string>

#include "source/canary/shadow_comparator.h"
#include "source/common/crypto/sha256.h"
#include "source/common/event/dispatcher.h"
#include "source/filters/goproxy/fetch.h"

namespace modgate::filters::goproxy {

// The digest a shadow reports when the other cluster has no such artifact
// (404/410) while the served side had it: for an immutable version that is
// different content too, so it must never pair as a match.
crypto::Sha256Digest notFoundDigest();

// Hashes the served body on its way into `inner` (the cache fill) and, when
// it completes, hands the digest to the comparator as the served half. Adds
// one pass of SHA-256 over bodies that are shadowed; others never meet it.
class ServedDigestSink : public FetchSink {
 public:
  ServedDigestSink(std::unique_ptr<FetchSink> inner, event::Dispatcher& dispatcher,
                   std::shared_ptr<canary::ShadowComparator> comparator, canary::ArtifactKey key);

  void onFetchStart(int64_t content_length) override { inner_->onFetchStart(content_length); }
  void onFetchData(buffer::Buffer& data) override;
  void onFetchComplete(uint64_t total_bytes) override;
  void onFetchNotFound(int status, std::string reason) override;
  void onFetchFailed(int status, std::string reason) override {
    inner_->onFetchFailed(status, std::move(reason));
  }
  void onFetchValidators(const std::string& etag, const std::string& last_modified) override {
    inner_->onFetchValidators(etag, last_modified);
  }
  void onFetchNotModified() override { inner_->onFetchNotModified(); }
  uint64_t pendingBytes() const override { return inner_->pendingBytes(); }
  void countPendingIn(cache::SharedPendingBytes total) override {
    inner_->countPendingIn(std::move(total));
  }
  void onFetchDiscarded() override {
    // Another upstream's body follows: hash that one.
    sha_.reset();
    inner_->onFetchDiscarded();
  }

 private:
  std::unique_ptr<FetchSink> inner_;
  event::Dispatcher& dispatcher_;
  std::shared_ptr<canary::ShadowComparator> comparator_;
  canary::ArtifactKey key_;
  crypto::Sha256 sha_;
};

// Receives the shadow cluster's answer for the same artifact: hashes and
// discards the body, then reports the digest as the shadow half. A failed
// shadow reports nothing; its outcome already counted in the canary window.
class ShadowSink : public FetchSink {
 public:
  ShadowSink(event::Dispatcher& dispatcher, std::shared_ptr<canary::ShadowComparator> comparator,
             canary::ArtifactKey key);

  void onFetchStart(int64_t) override {}
  void onFetchData(buffer::Buffer& data) override;
  void onFetchComplete(uint64_t total_bytes) override;
  void onFetchNotFound(int status, std::string reason) override;
  void onFetchFailed(int, std::string) override {}

 private:
  event::Dispatcher& dispatcher_;
  std::shared_ptr<canary::ShadowComparator> comparator_;
  canary::ArtifactKey key_;
  crypto::Sha256 sha_;
};

}  // namespace modgate::filters::goproxy
