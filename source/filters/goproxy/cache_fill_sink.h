#pragma once

#include <memory>
#include <string>

#include "source/cache/cache.h"
#include "source/cache/inflight.h"
#include "source/filters/goproxy/fetch.h"
#include "source/filters/goproxy/goproxy_config.h"

namespace modgate::filters::goproxy {

// Feeds a fetch into the cache through its single-flight entry: bytes go to
// a temp file that every waiting client streams from as it grows; success
// commits the entry, 404/410 becomes a short-lived negative entry. With an
// expired entry to revalidate, a 304 stores that entry's body again with a
// new expiry and completes the waiters with it. With `hold`, waiters see
// nothing of a 200 body until it is committed (Inflight::start with hold):
// a VerifyingSink in front decides first.
class CacheFillSink : public FetchSink {
 public:
  CacheFillSink(GoproxyConfigSharedPtr config, modgate::goproxy::Request request,
                std::shared_ptr<cache::Inflight> inflight,
                std::shared_ptr<const cache::Entry> expired = nullptr,
                cache::Inflight::Hold hold = cache::Inflight::Hold::kNone);
  ~CacheFillSink() override;

  void onFetchStart(int64_t content_length) override;
  void onFetchData(buffer::Buffer& data) override;
  void onFetchComplete(uint64_t total_bytes) override;
  void onFetchNotFound(int status, std::string reason) override;
  void onFetchFailed(int status, std::string reason) override;
  void onFetchValidators(const std::string& etag, const std::string& last_modified) override;
  void onFetchNotModified() override;
  uint64_t pendingBytes() const override;
  void countPendingIn(cache::SharedPendingBytes total) override {
    pending_total_ = std::move(total);
  }
  void onFetchDiscarded() override;

 private:
  cache::EntryMeta meta(int status, uint64_t size, std::chrono::milliseconds ttl) const;

  GoproxyConfigSharedPtr config_;
  modgate::goproxy::Request request_;
  std::shared_ptr<cache::Inflight> inflight_;
  std::shared_ptr<const cache::Entry> expired_;
  std::string upstream_etag_;
  std::string upstream_last_modified_;
  const cache::Inflight::Hold hold_;
  // Handed to each body's writer (countPendingIn); null: not counted.
  cache::SharedPendingBytes pending_total_;
  bool started_ = false;
  int64_t started_at_unix_ms_ = 0;
  bool finished_ = false;
};

}  // namespace modgate::filters::goproxy
