#include "source/filters/goproxy/goproxy_filter.h"

#include <chrono>

#include "absl/strings/str_cat.h"
#include "source/common/common/time.h"
#include "source/common/http/byte_range.h"
#include "source/common/http/conditional.h"
#include "source/common/http/http1/http_date.h"
#include "source/filters/goproxy/cache_fill.h"
#include "source/filters/goproxy/cache_fill_sink.h"
#include "source/filters/goproxy/mod_prefetch.h"
#include "source/upstream/load_balancer/module_path_hash.h"

namespace modgate::filters::goproxy {

using modgate::goproxy::RequestKind;

namespace {

// The access log's "kind": the GOPROXY request types, sumdb as one.
std::string_view kindName(RequestKind kind) {
  switch (kind) {
    case RequestKind::kList:
      return "list";
    case RequestKind::kInfo:
      return "info";
    case RequestKind::kMod:
      return "mod";
    case RequestKind::kZip:
      return "zip";
    case RequestKind::kLatest:
      return "latest";
    default:
      return "sumdb";
  }
}

bool isSumdb(RequestKind kind) {
  return kind == RequestKind::kSumdbSupported || kind == RequestKind::kSumdbLatest ||
         kind == RequestKind::kSumdbLookup || kind == RequestKind::kSumdbTile;
}

// The request headers that make a GET conditional or partial.
constexpr const char* kConditionHeaders[] = {"range", "if-range", "if-none-match",
                                             "if-modified-since"};

http::Validators validatorsOf(const cache::EntryMeta& meta) {
  return http::Validators{meta.etag, meta.stored_at_unix_ms / 1000};
}

// An expired copy's upstream validators, to ask the upstream whether it
// changed; only stored 200s carry them.
void addConditions(Fetch::Target& target, const std::shared_ptr<const cache::Entry>& expired) {
  if (expired == nullptr || expired->meta.status != 200 || !expired->stored()) return;
  target.if_none_match = expired->meta.upstream_etag;
  target.if_modified_since = expired->meta.upstream_last_modified;
}

}  // namespace

GoproxyFilter::GoproxyFilter(GoproxyConfigSharedPtr config, WorkerContext& worker)
    : config_(std::move(config)), worker_(worker) {}

GoproxyFilter::~GoproxyFilter() {
  if (alive_ != nullptr) *alive_ = false;
}

http::FilterHeadersStatus GoproxyFilter::decodeHeaders(http::RequestHeaders& headers, bool) {
  handle(headers);
  return http::FilterHeadersStatus::kStopIteration;
}

void GoproxyFilter::localReply(int status, std::string_view reason) {
  callbacks_->streamInfo().response_code = status;
  if (config_->stats != nullptr) config_->stats->downstreamResponses(status).Increment();
  callbacks_->sendLocalReply(status, reason);
}

void GoproxyFilter::countResult(const char* cache_status) {
  callbacks_->streamInfo().cache_status = cache_status;
  if (config_->stats == nullptr) return;
  std::string_view status(cache_status);
  if (status == "HIT" || status == "REVALIDATED") {
    config_->stats->cache_hit->Increment();
  } else if (status == "STALE") {
    config_->stats->cache_stale->Increment();
  } else if (status == "MISS") {
    config_->stats->cache_miss->Increment();
  }
}

void GoproxyFilter::handle(http::RequestHeaders& headers) {
  if (headers.method != "GET" && headers.method != "HEAD") {
    localReply(405, absl::StrCat("method ", headers.method,
                                 " not allowed: a module proxy answers GET and HEAD"));
    return;
  }
  head_ = headers.method == "HEAD";
  for (const char* name : kConditionHeaders) {
    if (const std::string* value = headers.headers.get(name)) conditions_.add(name, *value);
  }
  auto parsed = worker_.requestCache().parse(headers.path);
  if (auto* error = std::get_if<modgate::goproxy::RequestError>(&parsed)) {
    localReply(error->status, error->reason);
    return;
  }
  request_ = std::move(std::get<std::shared_ptr<const modgate::goproxy::Request>>(parsed));
  http::StreamInfo& info = callbacks_->streamInfo();
  info.module = request_->module;
  info.version = request_->version;
  info.kind = kindName(request_->kind);

  // A database configured with its own URL is always supported.
  if (request_->kind == RequestKind::kSumdbSupported &&
      config_->routes->sumdb(request_->sumdb_name) != nullptr &&
      config_->routes->sumdb(request_->sumdb_name)->cluster != nullptr) {
    sendHeaders(200, "text/plain; charset=utf-8", 0, "HIT", true);
    return;
  }

  // Routing decides before the cache: a route answering 403 must hold for
  // cached modules too. The fetch target is built only on a miss, so a hit
  // allocates nothing for it (benchmark: warm .info over HTTP/1.1).
  if (!matchRoute(headers)) return;

  // Pass-through: a query (.info for a branch or "v1.2") has no stable
  // answer to cache; nor does anything when the client asks for no fetch.
  const bool cacheable = request_->kind != RequestKind::kInfo || request_->canonical_version;
  if (!cacheable) {
    if (config_->offline) {
      localReply(404, "not available offline: version queries need an upstream");
      return;
    }
    countResult("MISS");
    passThrough(buildTarget(headers));
    return;
  }

  std::shared_ptr<const cache::Entry> entry = config_->cache->lookup(request_->cache_key);
  if (entry != nullptr && entry->fresh(common::wallClockUnixMs())) {
    serveEntry(entry, "HIT");
    return;
  }
  const std::string* no_fetch = headers.headers.get("disable-module-fetch");
  if (config_->offline || (no_fetch != nullptr && *no_fetch == "true")) {
    if (entry != nullptr && config_->serve_stale) {
      serveEntry(entry, "STALE");
    } else {
      localReply(404, absl::StrCat("not found: ", request_->cache_key,
                                   " is not cached and fetching is disabled"));
    }
    return;
  }
  if (entry != nullptr && entry->meta.status == 200 && config_->serve_stale &&
      common::wallClockUnixMs() <
          entry->meta.expires_at_unix_ms + config_->stale_while_revalidate.count()) {
    // Recently expired: answer now and refresh in the background, once.
    revalidate(buildTarget(headers), entry);
    serveEntry(entry, "STALE");
    return;
  }
  if (config_->serve_stale) stale_ = entry;
  fetchThroughCache(buildTarget(headers), std::move(entry));
}

bool GoproxyFilter::matchRoute(const http::RequestHeaders& headers) {
  if (isSumdb(request_->kind)) {
    const router::SumDb* db = config_->routes->sumdb(request_->sumdb_name);
    if (db != nullptr && db->cluster != nullptr) {
      sumdb_ = db;
      return true;
    }
  }
  const router::Route* route =
      config_->routes->match(*request_, headers, callbacks_->streamInfo().principals);
  if (route == nullptr) {
    localReply(404,
               absl::StrCat("not found: no route for ",
                            request_->module.empty() ? request_->cache_key : request_->module));
    return false;
  }
  if (route->require_auth && callbacks_->streamInfo().principals.empty()) {
    http::HeaderMap challenge;
    challenge.add("www-authenticate", absl::StrCat("Basic realm=\"", route->realm, "\""));
    challenge.add("www-authenticate", absl::StrCat("Bearer realm=\"", route->realm, "\""));
    callbacks_->sendLocalReply(401, "modgate: authentication required", challenge);
    return false;
  }
  if (route->direct_response.has_value()) {
    localReply(route->direct_response->status, route->direct_response->body);
    return false;
  }
  if (route->chain.empty() && !route->split.has_value()) {
    localReply(502, "route has no upstream");
    return false;
  }
  route_ = route;
  callbacks_->streamInfo().route = route->name;
  return true;
}

Fetch::Target GoproxyFilter::buildTarget(const http::RequestHeaders& headers) {
  Fetch::Target target;
  target.kind = request_->kind;
  target.total_outcomes = config_->routes->totalOutcomes();
  if (!request_->module.empty()) target.hash_key = upstream::hashModulePath(request_->module);
  if (sumdb_ != nullptr) {
    target.chain.push_back(router::ChainStep{sumdb_->cluster, router::Fallthrough::kNotFound});
    target.paths.push_back(absl::StrCat("/", request_->sumdb_path));
    return target;
  }
  if (route_->split.has_value()) {
    chooseFromSplit(*route_->split, headers, target);
  } else {
    target.chain = route_->chain;
  }
  target.paths.assign(target.chain.size(), request_->upstream_path);
  return target;
}

void GoproxyFilter::chooseFromSplit(const router::WeightedSplit& split,
                                    const http::RequestHeaders& headers, Fetch::Target& target) {
  const size_t index = router::chooseWeightedCluster(split, callbacks_->streamInfo().remote_address,
                                                     headers, worker_.random());
  router::ChainStep step{split.clusters[index].cluster, router::Fallthrough::kServerError, nullptr};
  if (!split.rollout.has_value()) {
    target.chain.push_back(std::move(step));
    return;
  }
  const router::RolloutBinding& rollout = *split.rollout;
  const bool canary = index == rollout.canary;
  callbacks_->streamInfo().canary_side = canary ? "canary" : "stable";
  step.outcomes = canary ? rollout.canary_outcomes : rollout.stable_outcomes;
  target.chain.push_back(std::move(step));
  if (canary && rollout.fallback_to_stable) {
    // The canary is on trial: its failures count against it, but the
    // client is answered by stable, as '|' in GOPROXY.
    target.chain.push_back(router::ChainStep{split.clusters[rollout.stable].cluster,
                                             router::Fallthrough::kNotFound,
                                             rollout.stable_outcomes});
  }
}

void GoproxyFilter::sendHeaders(int status, const std::string& content_type, int64_t content_length,
                                const char* cache_status, bool end_stream,
                                const cache::EntryMeta* validators,
                                const std::string* content_range) {
  http::ResponseHeaders response;
  response.headers.reserve(8);
  response.status = status;
  addAnswerFields(response.headers, status, content_type, content_length, cache_status, validators,
                  content_range);
  sendBuiltHeaders(response, cache_status, end_stream);
}

void GoproxyFilter::addAnswerFields(http::HeaderMap& fields, int status,
                                    const std::string& content_type, int64_t content_length,
                                    const char* cache_status, const cache::EntryMeta* validators,
                                    const std::string* content_range) const {
  fields.add("content-type", content_type);
  if (content_length >= 0) fields.add("content-length", std::to_string(content_length));
  if (content_range != nullptr) fields.add("content-range", *content_range);
  fields.add("x-cache", cache_status);
  if (validators != nullptr) {
    // A body of known size: ranges can be asked for; the validators (kept
    // with the entry) let a cache in front revalidate.
    if (content_length >= 0) fields.add("accept-ranges", "bytes");
    if (!validators->etag.empty()) fields.add("etag", validators->etag);
    if (validators->stored_at_unix_ms > 0) {
      char date[32];
      size_t length = http::http1::formatHttpDate(
          static_cast<time_t>(validators->stored_at_unix_ms / 1000), date);
      fields.add("last-modified", std::string(date, length));
    }
  }
  if (status == 200 || status == 206 || status == 304) {
    fields.add("cache-control",
               request_->immutable() ? "public, max-age=604800" : "public, max-age=60");
  } else {
    fields.add("cache-control", "public, max-age=60");
  }
}

void GoproxyFilter::sendBuiltHeaders(http::ResponseHeaders& response, const char* cache_status,
                                     bool end_stream) {
  headers_sent_ = true;
  countResult(cache_status);
  if (config_->stats != nullptr) config_->stats->downstreamResponses(response.status).Increment();
  callbacks_->encodeHeaders(response, end_stream || head_);
}

void GoproxyFilter::sendHitHeaders(const std::shared_ptr<const cache::Entry>& entry,
                                   bool end_stream) {
  constexpr const char* kHit = "HIT";
  ResponseHeadCache& heads = worker_.responseHeads();
  const bool immutable = request_->immutable();
  http::ResponseHeaders response;
  response.status = 200;
  response.shared = heads.find(entry, immutable);
  if (response.shared == nullptr) {
    auto fields = std::make_shared<http::HeaderMap>();
    fields->reserve(7);
    addAnswerFields(*fields, 200, entry->meta.content_type,
                    static_cast<int64_t>(entry->meta.body_size), kHit, &entry->meta, nullptr);
    heads.insert(entry, immutable, fields);
    response.shared = std::move(fields);
  }
  sendBuiltHeaders(response, kHit, end_stream);
}

void GoproxyFilter::serveEntry(std::shared_ptr<const cache::Entry> entry,
                               const char* cache_status) {
  const cache::EntryMeta& meta = entry->meta;
  if (meta.status != 200) {
    // A cached 404/410: the go command prints the reason and moves on.
    std::string body = entry->hot_body != nullptr     ? *entry->hot_body
                       : !meta.upstream_error.empty() ? meta.upstream_error
                                                      : std::string("not found");
    callbacks_->streamInfo().cache_status = cache_status;
    countResult(cache_status);
    localReply(meta.status, body);
    return;
  }
  if (!conditions_.entries().empty()) {
    if (http::notModified(conditions_, validatorsOf(meta))) {
      sendNotModified(meta, cache_status);
      return;
    }
    if (!chooseRange(meta.body_size, &meta, cache_status)) return;
  }
  const uint64_t first = partial_ ? range_first_ : 0;
  const uint64_t length = partial_ ? range_end_ - range_first_ : meta.body_size;
  std::string content_range;
  if (partial_) {
    content_range = absl::StrCat("bytes ", first, "-", first + length - 1, "/", meta.body_size);
  }
  const bool empty = length == 0;
  if (!partial_ && entry->hot_body != nullptr && std::string_view(cache_status) == "HIT") {
    sendHitHeaders(entry, empty);
  } else {
    sendHeaders(partial_ ? 206 : 200, meta.content_type, static_cast<int64_t>(length), cache_status,
                empty, &meta, partial_ ? &content_range : nullptr);
  }
  if (empty || head_) return;
  // Memory beats the disk for small bodies, but writing a large one from
  // memory copies it into the kernel; sendfile() to a plain socket does not
  // (benchmark: warm 64 KiB zips, where that copy was 30% of the profile).
  constexpr uint64_t kSendfileMinBytes = 16 * 1024;
  const bool sendfile_better =
      callbacks_->streamInfo().sendfile && entry->stored() && length >= kSendfileMinBytes;
  if (entry->hot_body != nullptr && !sendfile_better) {
    buffer::Buffer body;
    body.addShared(entry->hot_body, first, length);
    callbacks_->encodeData(body, true);
    return;
  }
  serveBody(entry, first, length);
}

bool GoproxyFilter::chooseRange(uint64_t size, const cache::EntryMeta* validators,
                                const char* cache_status) {
  const std::string* range = conditions_.get("range");
  // Range is defined for GET only; HEAD describes the whole body.
  if (range == nullptr || head_) return true;
  http::Validators current;
  if (validators != nullptr) current = validatorsOf(*validators);
  if (!http::ifRangeHolds(conditions_, current)) return true;  // changed: all of it
  http::ByteRange byte_range = http::parseRange(*range, size);
  switch (byte_range.kind) {
    case http::ByteRange::Kind::kIgnore:
      return true;
    case http::ByteRange::Kind::kUnsatisfiable:
      sendRangeNotSatisfiable(size, cache_status);
      return false;
    case http::ByteRange::Kind::kSatisfiable:
      partial_ = true;
      range_first_ = byte_range.first;
      range_end_ = byte_range.first + byte_range.length;
      return true;
  }
  return true;
}

void GoproxyFilter::sendNotModified(const cache::EntryMeta& meta, const char* cache_status) {
  http::ResponseHeaders response;
  response.status = 304;
  response.headers.reserve(5);
  response.headers.add("x-cache", cache_status);
  if (!meta.etag.empty()) response.headers.add("etag", meta.etag);
  if (meta.stored_at_unix_ms > 0) {
    char date[32];
    size_t length =
        http::http1::formatHttpDate(static_cast<time_t>(meta.stored_at_unix_ms / 1000), date);
    response.headers.add("last-modified", std::string(date, length));
  }
  response.headers.add("cache-control",
                       request_->immutable() ? "public, max-age=604800" : "public, max-age=60");
  headers_sent_ = true;
  countResult(cache_status);
  callbacks_->streamInfo().response_code = 304;
  if (config_->stats != nullptr) config_->stats->downstreamResponses(304).Increment();
  callbacks_->encodeHeaders(response, true);
}

void GoproxyFilter::sendRangeNotSatisfiable(uint64_t size, const char* cache_status) {
  http::ResponseHeaders response;
  response.status = 416;
  std::string body = absl::StrCat("range not satisfiable: the body has ", size, " bytes\n");
  response.headers.reserve(4);
  response.headers.add("content-type", "text/plain; charset=utf-8");
  response.headers.add("content-length", std::to_string(body.size()));
  response.headers.add("content-range", absl::StrCat("bytes */", size));
  response.headers.add("x-cache", cache_status);
  headers_sent_ = true;
  countResult(cache_status);
  callbacks_->streamInfo().response_code = 416;
  if (config_->stats != nullptr) config_->stats->downstreamResponses(416).Increment();
  callbacks_->encodeHeaders(response, head_);
  if (head_) return;
  buffer::Buffer data;
  data.add(body);
  callbacks_->encodeData(data, true);
}

void GoproxyFilter::serveBody(const std::shared_ptr<const cache::Entry>& entry, uint64_t first,
                              uint64_t length) {
  if (auto file = worker_.openFiles().find(*entry)) {
    sendFile(file, entry->body_offset + first, length, true);
    return;
  }
  if (alive_ == nullptr) alive_ = std::make_shared<bool>(true);
  std::weak_ptr<bool> alive = alive_;
  WorkerContext* worker = &worker_;
  config_->cache->openBody(entry, worker_.dispatcher(),
                           [this, alive, worker, entry, first, length](int fd, std::string) {
                             std::shared_ptr<const buffer::FileHandle> file;
                             if (fd >= 0) {
                               file = std::make_shared<const buffer::FileHandle>(fd);
                               // Keep it open for the next hit even if this client is gone.
                               worker->openFiles().insert(*entry, file);
                             }
                             if (alive.expired() || destroyed_) return;
                             if (file == nullptr) {
                               // Evicted between lookup and open: headers are out, so all we
                               // can do is reset.
                               callbacks_->resetStream();
                               return;
                             }
                             sendFile(file, entry->body_offset + first, length, true);
                           });
}

void GoproxyFilter::sendFile(const std::shared_ptr<const buffer::FileHandle>& file, uint64_t offset,
                             uint64_t length, bool end_stream) {
  if (callbacks_->streamInfo().sendfile) {
    // sendfile() where the bytes go straight to a plain socket (HTTP/1.1
    // without TLS: the 10 MiB zip benchmark): the kernel reads the page
    // cache, nothing is mapped or copied here.
    buffer::Buffer body;
    body.addFileRange(file, static_cast<off_t>(offset), length, true);
    if (end_stream) body_ended_ = true;
    callbacks_->encodeData(body, end_stream);
    return;
  }
  pending_file_ = PendingFile{file, offset, length, end_stream};
  pumpFile();
}

void GoproxyFilter::pumpFile() {
  // A window is mapped for the codec to read, and unmapped once sent; the
  // codec's watermark (HTTP/2: 1 MiB per stream) pauses us in between.
  constexpr uint64_t kWindow = 256 * 1024;
  while (pending_file_.has_value() && !paused_ && !destroyed_) {
    PendingFile& pending = *pending_file_;
    const uint64_t length = std::min(pending.remaining, kWindow);
    buffer::Buffer body;
    body.addFileRange(pending.file, static_cast<off_t>(pending.offset), length, false);
    pending.offset += length;
    pending.remaining -= length;
    bool end_stream = false;
    if (pending.remaining == 0) {
      end_stream = pending.end_stream;
      pending_file_.reset();
    }
    if (end_stream) body_ended_ = true;
    callbacks_->encodeData(body, end_stream);
  }
  // A fetch this stream follows may have more bytes by now.
  if (!pending_file_.has_value() && !paused_ && !destroyed_ && !body_ended_ &&
      inflight_ != nullptr) {
    pumpInflight();
  }
}

void GoproxyFilter::fetchThroughCache(Fetch::Target target,
                                      std::shared_ptr<const cache::Entry> expired) {
  bool created = false;
  inflight_ = config_->inflight->join(request_->cache_key, created);
  callbacks_->streamInfo().coalesced = !created;
  if (created) {
    addConditions(target, expired);
    target.upstream_info = std::make_shared<http::UpstreamInfo>();
    callbacks_->streamInfo().upstream = target.upstream_info;
    std::optional<Fetch::Target> info_target;
    if (request_->kind == RequestKind::kInfo) info_target = target;
    startCacheFill(config_, worker_, *request_, route_, inflight_, std::move(target),
                   std::move(expired));
    // The go command asks for the .mod next: its round trip starts now,
    // beside the .info's (which has the idle upstream connection).
    if (info_target.has_value()) {
      prefetchModForInfo(config_, worker_, *request_, route_, *info_target);
    }
  } else if (config_->stats != nullptr) {
    config_->stats->singleflight_joined->Increment();
  }
  if (!destroyed_) subscription_ = inflight_->subscribe(worker_.dispatcher(), *this);
}

void GoproxyFilter::revalidate(Fetch::Target target, std::shared_ptr<const cache::Entry> expired) {
  bool created = false;
  std::shared_ptr<cache::Inflight> inflight = config_->inflight->join(request_->cache_key, created);
  if (!created) return;  // a refresh is already under way
  addConditions(target, expired);
  worker_.startFetch(
      std::move(target),
      std::make_unique<CacheFillSink>(config_, *request_, std::move(inflight), std::move(expired)),
      config_->max_pending_disk_bytes);
}

void GoproxyFilter::onHeaders(const cache::EntryMeta& meta) {
  // Only a 200 streams; other answers arrive whole, in onComplete().
  if (headers_sent_ || destroyed_ || meta.status != 200) return;
  // The body is still arriving, so its ETag (the content hash) is not known
  // yet: a streamed miss carries only Last-Modified (the fill keeps that
  // time for its entry), and an If-Range cannot match it. A Range is still
  // served, as the bytes arrive, when the upstream announced the size;
  // without a size the whole body goes out.
  if (meta.body_size > 0 && !conditions_.entries().empty()) {
    if (!chooseRange(meta.body_size, nullptr, "MISS")) {
      subscription_.reset();
      return;
    }
  }
  if (partial_) {
    sent_ = range_first_;
    std::string content_range =
        absl::StrCat("bytes ", range_first_, "-", range_end_ - 1, "/", meta.body_size);
    sendHeaders(206, meta.content_type, static_cast<int64_t>(range_end_ - range_first_), "MISS",
                false, &meta, &content_range);
    return;
  }
  sendHeaders(200, meta.content_type,
              meta.body_size > 0 ? static_cast<int64_t>(meta.body_size) : -1, "MISS", false, &meta);
}

void GoproxyFilter::onBytesAvailable(uint64_t total_available) {
  available_ = std::max(available_, total_available);
  pumpInflight();
}

void GoproxyFilter::pumpInflight() {
  if (destroyed_ || !headers_sent_ || paused_ || head_ || body_ended_) return;
  if (pending_file_.has_value()) return;  // pumpFile() comes back here when done
  // Only this response's part of the body (all of it unless 206).
  const uint64_t limit = std::min(available_, range_end_);
  const bool last = complete_ || (partial_ && available_ >= range_end_);
  if (limit > sent_) {
    // Batch small increments (the fetch reports every write): fewer, larger
    // sendfile() calls and wakeups when hundreds of clients share a fetch.
    // The first bytes go out at once, so every waiter starts together.
    constexpr uint64_t kMinBatch = 256 * 1024;
    if (!last && sent_ > range_first_ && limit - sent_ < kMinBatch) return;
    if (inflight_file_ == nullptr) {
      int fd = inflight_->dupReadFd();
      if (fd < 0) {
        callbacks_->resetStream();
        return;
      }
      inflight_file_ = std::make_shared<const buffer::FileHandle>(fd);
    }
    const uint64_t length = limit - sent_;
    const uint64_t offset = inflight_->bodyOffset() + sent_;
    sent_ += length;
    sendFile(inflight_file_, offset, length, last && sent_ == limit);
    if (last && sent_ == limit) subscription_.reset();
    return;
  }
  if (complete_) {
    buffer::Buffer empty;
    body_ended_ = true;
    callbacks_->encodeData(empty, true);
  }
}

void GoproxyFilter::onComplete(std::shared_ptr<const cache::Entry> entry) {
  if (destroyed_) return;
  subscription_.reset();
  if (!headers_sent_) {
    // An answer that never streamed: a 404/410 or an upstream error held in
    // memory. An expired list/@latest beats an error.
    if (entry->meta.status >= 500 && stale_ != nullptr) {
      serveEntry(stale_, "STALE");
      return;
    }
    // A stored 200 that never streamed is an expired copy the upstream
    // confirmed with a 304 (Inflight::completeWithEntry).
    serveEntry(entry, entry->meta.status == 200 && entry->stored() ? "REVALIDATED" : "MISS");
    return;
  }
  complete_ = true;
  if (head_) {
    buffer::Buffer empty;
    callbacks_->encodeData(empty, true);
    return;
  }
  if (!entry->stored() && entry->hot_body != nullptr && sent_ == range_first_) {
    // Answered from memory, never on disk.
    buffer::Buffer body;
    body.addShared(entry->hot_body, range_first_,
                   std::min<uint64_t>(range_end_, entry->hot_body->size()) - range_first_);
    callbacks_->encodeData(body, true);
    return;
  }
  available_ = std::max(available_, entry->meta.body_size);
  pumpInflight();
}

void GoproxyFilter::onFailed(std::string_view reason) {
  if (destroyed_) return;
  subscription_.reset();
  if (headers_sent_) {
    // Part of the body is out: the only honest signal left is a reset.
    callbacks_->resetStream();
    return;
  }
  if (stale_ != nullptr) {
    serveEntry(stale_, "STALE");
    return;
  }
  countResult("MISS");
  localReply(502, reason);
}

void GoproxyFilter::onAboveWriteBufferHighWatermark() { paused_ = true; }

void GoproxyFilter::onBelowWriteBufferLowWatermark() {
  paused_ = false;
  if (pending_file_.has_value()) {
    pumpFile();
  } else if (inflight_ != nullptr) {
    pumpInflight();
  }
}

void GoproxyFilter::onDestroy() {
  destroyed_ = true;
  if (alive_ != nullptr) *alive_ = false;
  subscription_.reset();
  inflight_.reset();
  // The fetch may be what is calling us: free it after this iteration.
  if (passthrough_ != nullptr) worker_.dispatcher().deferredDelete(std::move(passthrough_));
}

void GoproxyFilter::passThrough(Fetch::Target target) {
  target.upstream_info = std::make_shared<http::UpstreamInfo>();
  callbacks_->streamInfo().upstream = target.upstream_info;
  passthrough_ = std::make_unique<Fetch>(worker_.dispatcher(), worker_, std::move(target), *this, 0,
                                         [](Fetch&) {});
  passthrough_->start();
}

void GoproxyFilter::onFetchStart(int64_t) { passthrough_body_.clear(); }

void GoproxyFilter::onFetchData(buffer::Buffer& data) {
  passthrough_body_.append(data.toString());
  data.drain(data.length());
}

void GoproxyFilter::onFetchComplete(uint64_t) {
  if (destroyed_) return;
  sendHeaders(200, contentType(request_->kind), static_cast<int64_t>(passthrough_body_.size()),
              "MISS", passthrough_body_.empty());
  if (!passthrough_body_.empty() && !head_) {
    buffer::Buffer body;
    body.add(passthrough_body_);
    callbacks_->encodeData(body, true);
  }
}

void GoproxyFilter::onFetchNotFound(int status, std::string reason) {
  if (!destroyed_) localReply(status, reason);
}

void GoproxyFilter::onFetchFailed(int status, std::string reason) {
  if (!destroyed_) localReply(status, reason);
}

}  // namespace modgate::filters::goproxy
