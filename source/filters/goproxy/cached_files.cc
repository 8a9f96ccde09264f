#include "source/filters/goproxy/cached_files.h"

#include <unistd.h>

#include <cerrno>

#include "absl/strings/str_cat.h"
#include "source/common/common/time.h"
#include "source/filters/goproxy/cache_fill_sink.h"
#include "source/filters/goproxy/verifying_sink.h"

namespace modgate::filters::goproxy {
namespace {

using modgate::goproxy::Request;

// Lookups are a few hundred bytes, tiles 8 KiB, lists and go.mod files a
// few KiB: anything much larger is not what a caller expects.
constexpr uint64_t kMaxSumdbFileBytes = 1 << 20;

// Reads a small body from `fd` at `offset`. This is blocking file I/O on
// the worker, accepted for these few KiB that were just written (page
// cache); the bodies the cache serves from disk never take this path.
absl::StatusOr<std::string> readBody(int fd, uint64_t offset, uint64_t size) {
  if (fd < 0) return absl::UnavailableError("no file to read the answer from");
  if (size > kMaxSumdbFileBytes) {
    ::close(fd);
    return absl::InvalidArgumentError(absl::StrCat("answer of ", size, " bytes is too large"));
  }
  std::string body(size, '\0');
  uint64_t done = 0;
  while (done < size) {
    const ssize_t n =
        ::pread(fd, body.data() + done, size - done, static_cast<off_t>(offset + done));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    done += static_cast<uint64_t>(n);
  }
  ::close(fd);
  if (done != size) return absl::DataLossError("short read of a cached answer");
  return body;
}

absl::Status answerError(const cache::Entry& entry) {
  std::string text = entry.hot_body != nullptr ? *entry.hot_body : entry.meta.upstream_error;
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) text.pop_back();
  return absl::NotFoundError(
      absl::StrCat("answered ", entry.meta.status, text.empty() ? "" : ": ", text));
}

// Waits for a fill (its own or a client's) and reads the answer.
class Waiter : public cache::InflightCallbacks {
 public:
  // `before_commit`: the body may be used once all of it is in the temp
  // file, before the cache's durable commit (see readSumdbFile).
  static void start(std::shared_ptr<cache::Inflight> inflight, event::Dispatcher& dispatcher,
                    bool before_commit, CachedFileCallback cb) {
    auto waiter = std::shared_ptr<Waiter>(new Waiter(dispatcher, before_commit, std::move(cb)));
    waiter->self_ = waiter;
    waiter->inflight_ = std::move(inflight);
    waiter->subscription_ = waiter->inflight_->subscribe(dispatcher, *waiter);
  }

  void onHeaders(const cache::EntryMeta& meta) override {
    // The size the upstream announced (0: unknown, e.g. chunked).
    expected_size_ = meta.status == 200 ? meta.body_size : 0;
  }
  void onBytesAvailable(uint64_t total) override {
    if (before_commit_ && expected_size_ > 0 && total == expected_size_) {
      end(readBody(inflight_->dupReadFd(), inflight_->bodyOffset(), total));
    }
  }
  void onComplete(std::shared_ptr<const cache::Entry> entry) override {
    if (entry->meta.status != 200) {
      end(answerError(*entry));
    } else if (entry->hot_body != nullptr) {
      end(*entry->hot_body);
    } else {
      end(readBody(inflight_->dupReadFd(), inflight_->bodyOffset(), entry->meta.body_size));
    }
  }
  void onFailed(std::string_view reason) override {
    end(absl::UnavailableError(std::string(reason)));
  }

 private:
  Waiter(event::Dispatcher& dispatcher, bool before_commit, CachedFileCallback cb)
      : dispatcher_(dispatcher), before_commit_(before_commit), cb_(std::move(cb)) {}

  void end(absl::StatusOr<std::string> body) {
    // Called from inside the Inflight's delivery: unsubscribe now (no more
    // callbacks), free this object after it returns.
    subscription_.reset();
    auto cb = std::move(cb_);
    cb(std::move(body));
    dispatcher_.post([self = std::move(self_)] {});
  }

  event::Dispatcher& dispatcher_;
  const bool before_commit_;
  uint64_t expected_size_ = 0;
  CachedFileCallback cb_;
  std::shared_ptr<Waiter> self_;
  std::shared_ptr<cache::Inflight> inflight_;
  std::unique_ptr<cache::Subscription> subscription_;
};

// Where a miss is fetched from: the same choice GoproxyFilter makes for a
// client's request.
absl::StatusOr<Fetch::Target> targetFor(const GoproxyConfig& config, const Request& request,
                                        const std::vector<std::string>& principals) {
  Fetch::Target target;
  target.kind = request.kind;
  if (const router::SumDb* db = config.routes->sumdb(request.sumdb_name);
      db != nullptr && db->cluster != nullptr) {
    target.chain.push_back(router::ChainStep{db->cluster, router::Fallthrough::kNotFound});
    target.paths.push_back(absl::StrCat("/", request.sumdb_path));
    return target;
  }
  http::RequestHeaders headers;
  headers.method = "GET";
  headers.path = request.upstream_path;
  const router::Route* route = config.routes->match(request, headers, principals);
  if (route == nullptr)
    return absl::NotFoundError(absl::StrCat("no route for ", request.cache_key));
  if (route->direct_response.has_value()) {
    return absl::PermissionDeniedError(absl::StrCat(
        "route answers ", route->direct_response->status, ": ", route->direct_response->body));
  }
  if (!route->chain.empty()) {
    target.chain = route->chain;
  } else if (route->split.has_value() && !route->split->clusters.empty()) {
    // A weighted split: its stable side (the canary is for clients).
    const size_t stable =
        route->split->rollout.has_value() ? route->split->rollout->stable : size_t{0};
    target.chain.push_back(
        router::ChainStep{route->split->clusters[stable].cluster, router::Fallthrough::kNotFound});
  } else {
    return absl::NotFoundError(
        absl::StrCat("the route for ", request.cache_key, " has no upstream"));
  }
  target.paths.assign(target.chain.size(), request.upstream_path);
  return target;
}

}  // namespace

namespace {

void readFile(const GoproxyConfigSharedPtr& config, WorkerContext& worker, const std::string& path,
              const std::vector<std::string>& principals, bool before_commit,
              CachedFileCallback cb) {
  event::Dispatcher& dispatcher = worker.dispatcher();
  auto later = [&dispatcher, cb](absl::StatusOr<std::string> body) {
    dispatcher.post([cb, body = std::move(body)] { cb(body); });
  };
  auto parsed = modgate::goproxy::ParseRequest(path);
  if (auto* error = std::get_if<modgate::goproxy::RequestError>(&parsed)) {
    later(absl::InvalidArgumentError(error->reason));
    return;
  }
  const Request& request = std::get<Request>(parsed);

  std::shared_ptr<const cache::Entry> entry = config->cache->lookup(request.cache_key);
  if (entry != nullptr && entry->fresh(common::wallClockUnixMs())) {
    if (entry->meta.status != 200) {
      later(answerError(*entry));
    } else if (entry->hot_body != nullptr) {
      later(*entry->hot_body);
    } else {
      const uint64_t size = entry->meta.body_size;
      config->cache->openBody(entry, dispatcher, [cb, size](int fd, std::string error) {
        if (fd < 0) {
          cb(absl::UnavailableError(absl::StrCat("cached answer unreadable: ", error)));
          return;
        }
        // openBody positions fd at the body; pread wants the offset, which
        // the fd's position equals.
        const off_t at = ::lseek(fd, 0, SEEK_CUR);
        cb(readBody(fd, static_cast<uint64_t>(at < 0 ? 0 : at), size));
      });
    }
    return;
  }
  if (config->offline) {
    later(absl::UnavailableError("not cached, and modgate is offline"));
    return;
  }
  auto target = targetFor(*config, request, principals);
  if (!target.ok()) {
    later(target.status());
    return;
  }
  bool created = false;
  std::shared_ptr<cache::Inflight> inflight = config->inflight->join(request.cache_key, created);
  if (created) {
    const bool verify = VerifyingSink::applies(*config, request);
    std::unique_ptr<FetchSink> sink = std::make_unique<CacheFillSink>(
        config, request, inflight, std::shared_ptr<const cache::Entry>(),
        VerifyingSink::hold(*config, request));
    if (verify) {
      sink = std::make_unique<VerifyingSink>(std::move(sink), inflight, config, worker, request);
    }
    worker.startFetch(*std::move(target), std::move(sink), config->max_pending_disk_bytes);
  }
  Waiter::start(std::move(inflight), dispatcher, before_commit, std::move(cb));
}

}  // namespace

void readCachedFile(const GoproxyConfigSharedPtr& config, WorkerContext& worker,
                    const std::string& path, const std::vector<std::string>& principals,
                    CachedFileCallback cb) {
  readFile(config, worker, path, principals, /*before_commit=*/false, std::move(cb));
}

void readSumdbFile(const GoproxyConfigSharedPtr& config, WorkerContext& worker,
                   const std::string& db, const std::string& file, CachedFileCallback cb) {
  // A lookup and its tiles vouch for themselves (the note's signature, the
  // proof against the signed root), so each is used as soon as all of its
  // announced bytes are in the temp file, without waiting for the cache's
  // fsyncs: a cold verification waits for a lookup, then for its tiles, and
  // two durable commits in a row cost tens of ms on a busy disk.
  readFile(config, worker, absl::StrCat("/sumdb/", db, "/", file), {}, /*before_commit=*/true,
           std::move(cb));
}

}  // namespace modgate::filters::goproxy
