#include "source/filters/goproxy/cache_fill_sink.h"

#include "source/common/common/logger.h"
#include "source/common/common/time.h"

namespace modgate::filters::goproxy {

CacheFillSink::CacheFillSink(GoproxyConfigSharedPtr config, modgate::goproxy::Request request,
                             std::shared_ptr<cache::Inflight> inflight, bool hold)
    : config_(std::move(config)),
      request_(std::move(request)),
      inflight_(std::move(inflight)),
      hold_(hold) {}

CacheFillSink::~CacheFillSink() {
  // A fetch torn down without an outcome (server shutdown) must not leave
  // waiters hanging.
  if (!finished_) inflight_->fail("fetch abandoned");
}

cache::EntryMeta CacheFillSink::meta(int status, uint64_t size,
                                     std::chrono::milliseconds ttl) const {
  cache::EntryMeta meta;
  meta.status = status;
  meta.content_type = status == 200 ? contentType(request_.kind) : "text/plain; charset=utf-8";
  meta.body_size = size;
  meta.stored_at_unix_ms = common::wallClockUnixMs();
  meta.expires_at_unix_ms = ttl.count() == 0 ? 0 : meta.stored_at_unix_ms + ttl.count();
  return meta;
}

void CacheFillSink::onFetchStart(int64_t content_length) {
  started_ = true;
  cache::EntryWriterPtr writer = config_->cache->beginWrite(request_.cache_key);
  if (writer == nullptr) {
    finished_ = true;
    inflight_->failWithResponse(500, "cache refused the key");
    return;
  }
  inflight_->start(meta(200, content_length > 0 ? static_cast<uint64_t>(content_length) : 0,
                        freshFor(*config_, request_)),
                   std::move(writer), hold_);
}

void CacheFillSink::onFetchDiscarded() {
  if (finished_) return;
  if (inflight_->discard()) started_ = false;
}

void CacheFillSink::onFetchData(buffer::Buffer& data) {
  if (finished_) {
    data.drain(data.length());
    return;
  }
  inflight_->append(data);
}

void CacheFillSink::onFetchComplete(uint64_t total_bytes) {
  if (finished_) return;
  finished_ = true;
  inflight_->finish(meta(200, total_bytes, freshFor(*config_, request_)));
}

void CacheFillSink::onFetchNotFound(int status, std::string reason) {
  if (finished_) return;
  finished_ = true;
  if (config_->negative_ttl.count() == 0) {
    // Negative caching is off: answer the waiters, store nothing.
    inflight_->failWithResponse(status, reason);
    return;
  }
  // "Not a module" is asked for every path prefix: remember it briefly.
  cache::EntryMeta negative = meta(status, reason.size() + 1, config_->negative_ttl);
  negative.upstream_error = reason;
  // Waiters are answered once the entry is indexed, so a request right
  // after them finds it instead of asking the upstream again.
  config_->cache->insertSmall(
      request_.cache_key, negative, reason,
      [inflight = inflight_, status, reason](absl::StatusOr<std::shared_ptr<const cache::Entry>>) {
        inflight->failWithResponse(status, reason);
      });
}

void CacheFillSink::onFetchFailed(int status, std::string reason) {
  if (finished_) return;
  finished_ = true;
  LOG_WARN("fetch ", request_.cache_key, " failed: ", reason);
  if (started_) {
    inflight_->fail(reason);
  } else {
    inflight_->failWithResponse(status, reason);
  }
}

uint64_t CacheFillSink::pendingBytes() const {
  return inflight_->terminated() ? 0 : inflight_->pendingWriteBytes();
}

}  // namespace modgate::filters::goproxy
