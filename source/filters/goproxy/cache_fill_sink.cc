#include "source/filters/goproxy/cache_fill_sink.h"

#include "source/common/common/logger.h"
#include "source/common/common/time.h"

namespace modgate::filters::goproxy {

CacheFillSink::CacheFillSink(GoproxyConfigSharedPtr config, modgate::goproxy::Request request,
                             std::shared_ptr<cache::Inflight> inflight,
                             std::shared_ptr<const cache::Entry> expired,
                             cache::Inflight::Hold hold)
    : config_(std::move(config)),
      request_(std::move(request)),
      inflight_(std::move(inflight)),
      expired_(std::move(expired)),
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
  // The time the upstream answered, kept from the start of the body to its
  // commit: a streamed MISS already sends it as Last-Modified, so the HITs
  // after it must say the same.
  meta.stored_at_unix_ms =
      started_at_unix_ms_ != 0 ? started_at_unix_ms_ : common::wallClockUnixMs();
  // Fresh for the TTL from now (the commit), as before validators.
  meta.expires_at_unix_ms = ttl.count() == 0 ? 0 : common::wallClockUnixMs() + ttl.count();
  if (status == 200) {
    meta.upstream_etag = upstream_etag_;
    meta.upstream_last_modified = upstream_last_modified_;
  }
  return meta;
}

void CacheFillSink::onFetchStart(int64_t content_length) {
  started_ = true;
  started_at_unix_ms_ = common::wallClockUnixMs();
  cache::EntryWriterPtr writer = config_->cache->beginWrite(request_.cache_key);
  if (writer == nullptr) {
    finished_ = true;
    inflight_->failWithResponse(500, "cache refused the key");
    return;
  }
  if (pending_total_ != nullptr) writer->countPendingIn(pending_total_);
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

void CacheFillSink::onFetchValidators(const std::string& etag, const std::string& last_modified) {
  upstream_etag_ = etag;
  upstream_last_modified_ = last_modified;
}

void CacheFillSink::onFetchNotModified() {
  if (finished_) return;
  finished_ = true;
  if (expired_ == nullptr) {
    inflight_->failWithResponse(502, "upstream answered 304 to an unconditional request");
    return;
  }
  // Same body, new expiry. stored-at stays: it is the body's Last-Modified,
  // and the body did not change.
  cache::EntryMeta refreshed = expired_->meta;
  if (!upstream_etag_.empty()) refreshed.upstream_etag = upstream_etag_;
  if (!upstream_last_modified_.empty()) refreshed.upstream_last_modified = upstream_last_modified_;
  const auto ttl = freshFor(*config_, request_);
  refreshed.expires_at_unix_ms = ttl.count() == 0 ? 0 : common::wallClockUnixMs() + ttl.count();
  config_->cache->refresh(
      expired_, std::move(refreshed),
      [inflight = inflight_,
       key = request_.cache_key](absl::StatusOr<std::shared_ptr<const cache::Entry>> entry) {
        if (entry.ok()) {
          inflight->completeWithEntry(*std::move(entry));
          return;
        }
        // Evicted meanwhile: the waiters fall back to what they hold (a
        // stale copy) or a 502, and the next request fetches it whole.
        LOG_WARN("refreshing ", key, " after a 304 failed: ", entry.status().ToString());
        inflight->fail("cached copy gone while revalidating");
      });
}

uint64_t CacheFillSink::pendingBytes() const {
  return inflight_->terminated() ? 0 : inflight_->pendingWriteBytes();
}

}  // namespace modgate::filters::goproxy
