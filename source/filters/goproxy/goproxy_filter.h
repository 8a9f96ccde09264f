#pragma once

#include <memory>
#include <optional>
#include <string>

#include "source/cache/cache.h"
#include "source/cache/inflight.h"
#include "source/common/http/filter.h"
#include "source/filters/goproxy/fetch.h"
#include "source/filters/goproxy/goproxy_config.h"
#include "source/filters/goproxy/worker_context.h"

namespace modgate::filters::goproxy {

// The GOPROXY protocol as a terminal filter: validates the request, answers
// from the cache, or joins (or starts) the single fetch for the resource and
// streams it to the client as it arrives.
//
// Life of a miss: decodeHeaders -> InflightTable::join; the first joiner
// starts a Fetch on this worker (WorkerContext::startFetch) that writes into
// the Inflight; every joiner, on any worker, subscribes and sends bytes from
// the growing temp file as they become durable (onBytesAvailable), then
// ends the stream when the entry is committed (onComplete).
class GoproxyFilter : public http::StreamFilter, public cache::InflightCallbacks, public FetchSink {
 public:
  GoproxyFilter(GoproxyConfigSharedPtr config, WorkerContext& worker);
  ~GoproxyFilter() override;

  // http::StreamFilter
  void setCallbacks(http::StreamFilterCallbacks& callbacks) override { callbacks_ = &callbacks; }
  http::FilterHeadersStatus decodeHeaders(http::RequestHeaders& headers, bool end_stream) override;
  void onAboveWriteBufferHighWatermark() override;
  void onBelowWriteBufferLowWatermark() override;
  void onDestroy() override;

  // cache::InflightCallbacks: a fetch this stream waits on made progress.
  void onHeaders(const cache::EntryMeta& meta) override;
  void onBytesAvailable(uint64_t total_available) override;
  void onComplete(std::shared_ptr<const cache::Entry> entry) override;
  void onFailed(std::string_view reason) override;

  // FetchSink: pass-through queries (.info for "master"), never cached.
  void onFetchStart(int64_t content_length) override;
  void onFetchData(buffer::Buffer& data) override;
  void onFetchComplete(uint64_t total_bytes) override;
  void onFetchNotFound(int status, std::string reason) override;
  void onFetchFailed(int status, std::string reason) override;

 private:
  void handle(http::RequestHeaders& headers);
  // Finds the route (or the sumdb with its own URL); answers and returns
  // false when there is none or it answers directly.
  bool matchRoute(const http::RequestHeaders& headers);
  // What to fetch, from the matched route: only needed on a miss.
  Fetch::Target buildTarget(const http::RequestHeaders& headers);
  void chooseFromSplit(const router::WeightedSplit& split, const http::RequestHeaders& headers,
                       Fetch::Target& target);
  void serveEntry(std::shared_ptr<const cache::Entry> entry, const char* cache_status);
  // Bytes [first, first + length) of a stored body, from a file.
  void serveBody(const std::shared_ptr<const cache::Entry>& entry, uint64_t first, uint64_t length);
  void sendFile(const std::shared_ptr<const buffer::FileHandle>& file, uint64_t offset,
                uint64_t length, bool end_stream);
  // Hands pending_file_ to the codec a window at a time while the stream is
  // below its write watermark.
  void pumpFile();
  // `expired`: an expired copy to revalidate conditionally (may be null).
  void fetchThroughCache(Fetch::Target target, std::shared_ptr<const cache::Entry> expired);
  void revalidate(Fetch::Target target, std::shared_ptr<const cache::Entry> expired);
  void passThrough(Fetch::Target target);
  // `validators`: the entry whose ETag and Last-Modified go out (may be
  // null); `content_range`: a 206's Content-Range value (may be null).
  void sendHeaders(int status, const std::string& content_type, int64_t content_length,
                   const char* cache_status, bool end_stream,
                   const cache::EntryMeta* validators = nullptr,
                   const std::string* content_range = nullptr);
  // The fields sendHeaders() sends (the same arguments), into `fields`.
  void addAnswerFields(http::HeaderMap& fields, int status, const std::string& content_type,
                       int64_t content_length, const char* cache_status,
                       const cache::EntryMeta* validators, const std::string* content_range) const;
  // Sends headers built by the above (or precomputed) and counts them.
  void sendBuiltHeaders(http::ResponseHeaders& response, const char* cache_status, bool end_stream);
  // A full 200 HIT of a small in-memory answer: its fields come from the
  // worker's ResponseHeadCache, built on the first request only.
  void sendHitHeaders(const std::shared_ptr<const cache::Entry>& entry, bool end_stream);
  // 304 for a conditional GET/HEAD whose copy is current.
  void sendNotModified(const cache::EntryMeta& meta, const char* cache_status);
  // 416 for a Range past the end of a body of `size` bytes.
  void sendRangeNotSatisfiable(uint64_t size, const char* cache_status);
  // Decides 200 or 206 for a body of `size` bytes from the request's Range
  // and If-Range; false when it answered 416 instead.
  bool chooseRange(uint64_t size, const cache::EntryMeta* validators, const char* cache_status);
  void pumpInflight();
  void localReply(int status, std::string_view reason);
  void countResult(const char* cache_status);

  GoproxyConfigSharedPtr config_;
  WorkerContext& worker_;
  http::StreamFilterCallbacks* callbacks_ = nullptr;
  // From the worker's RequestCache: shared, immutable.
  std::shared_ptr<const modgate::goproxy::Request> request_;
  // The matched route; lives as long as config_.
  const router::Route* route_ = nullptr;
  const router::SumDb* sumdb_ = nullptr;
  bool head_ = false;
  bool destroyed_ = false;
  // The request's Range and conditional headers, copied from the request
  // (most requests have none, so this is usually empty).
  http::HeaderMap conditions_;
  // This response's part of the body, [range_first_, range_end_): all of it
  // unless a Range was honoured (206).
  uint64_t range_first_ = 0;
  uint64_t range_end_ = UINT64_MAX;
  bool partial_ = false;
  // Alive while waiting on a fetch (ours or another worker's).
  std::shared_ptr<cache::Inflight> inflight_;
  std::unique_ptr<cache::Subscription> subscription_;
  // The fetch's temp file, opened once for all of this stream's sends.
  std::shared_ptr<const buffer::FileHandle> inflight_file_;
  // What to serve if the upstream fails (an expired list/@latest entry).
  std::shared_ptr<const cache::Entry> stale_;
  bool headers_sent_ = false;
  bool paused_ = false;
  uint64_t sent_ = 0;
  uint64_t available_ = 0;
  bool complete_ = false;
  // Pass-through fetch, owned here: it dies with the stream.
  std::unique_ptr<Fetch> passthrough_;
  std::string passthrough_body_;
  // A file range going to a codec that reads its bytes (HTTP/2, TLS): sent
  // in windows so only a window or so per stream is mapped at a time,
  // instead of the whole body; the page cache holds the rest.
  struct PendingFile {
    std::shared_ptr<const buffer::FileHandle> file;
    uint64_t offset = 0;
    uint64_t remaining = 0;
    bool end_stream = false;
  };
  std::optional<PendingFile> pending_file_;
  bool body_ended_ = false;
  // Created for an asynchronous cache read and shared with its callback,
  // which must not touch a destroyed filter; hits from memory never need it.
  std::shared_ptr<bool> alive_;
};

// Creates the per-stream filter with the worker's current config snapshot.
class GoproxyFilterFactory : public http::FilterChainFactory {
 public:
  GoproxyFilterFactory(GoproxyConfigSharedPtr config, WorkerContext& worker)
      : config_(std::move(config)), worker_(worker) {}
  void createFilterChain(std::vector<http::StreamFilterPtr>& chain) override {
    chain.push_back(std::make_unique<GoproxyFilter>(config_, worker_));
  }
  // Called on the worker's thread when a new snapshot is posted.
  void setConfig(GoproxyConfigSharedPtr config) { config_ = std::move(config); }
  // For filters before this one that read through the cache too (policy).
  const GoproxyConfigSharedPtr& config() const { return config_; }
  WorkerContext& worker() { return worker_; }

 private:
  GoproxyConfigSharedPtr config_;
  WorkerContext& worker_;
};

}  // namespace modgate::filters::goproxy
