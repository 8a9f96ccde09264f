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
// commits the entry, 404/410 becomes a short-lived negative entry. With
// `hold`, waiters see nothing of a 200 body until it is committed
// (Inflight::start with hold): a VerifyingSink in front decides first.
class CacheFillSink : public FetchSink {
 public:
  CacheFillSink(GoproxyConfigSharedPtr config, modgate::goproxy::Request request,
                std::shared_ptr<cache::Inflight> inflight, bool hold = false);
  ~CacheFillSink() override;

  void onFetchStart(int64_t content_length) override;
  void onFetchData(buffer::Buffer& data) override;
  void onFetchComplete(uint64_t total_bytes) override;
  void onFetchNotFound(int status, std::string reason) override;
  void onFetchFailed(int status, std::string reason) override;
  uint64_t pendingBytes() const override;
  void onFetchDiscarded() override;

 private:
  cache::EntryMeta meta(int status, uint64_t size, std::chrono::milliseconds ttl) const;

  GoproxyConfigSharedPtr config_;
  modgate::goproxy::Request request_;
  std::shared_ptr<cache::Inflight> inflight_;
  const bool hold_;
  bool started_ = false;
  bool finished_ = false;
};

}  // namespace modgate::filters::goproxy
