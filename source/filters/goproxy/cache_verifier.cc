#include "source/filters/goproxy/cache_verifier.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>

#include "absl/strings/str_cat.h"
#include "source/common/common/logger.h"
#include "source/filters/goproxy/verifying_sink.h"
#include "source/goproxy/request.h"
#include "source/sumdb/dirhash.h"
#include "source/sumdb/zip_hash.h"

namespace modgate::filters::goproxy {
namespace {

using modgate::goproxy::Request;
using modgate::goproxy::RequestKind;

// Entries checked at once: enough to overlap lookups with hashing, few
// enough that a big cache does not crowd out the traffic being served.
constexpr size_t kParallel = 4;

// The go.sum hash of a cached body, read from its file (blocking: run on
// the hash pool).
absl::StatusOr<std::string> hashEntry(const cache::Entry& entry, bool zip) {
  const int fd = ::open(entry.path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return absl::NotFoundError(absl::StrCat("cannot open ", entry.path));
  absl::StatusOr<std::string> result;
  if (zip) {
    result = sumdb::HashZipFile(fd, entry.body_offset, entry.meta.body_size);
  } else {
    crypto::Sha256 sha;
    char buf[64 * 1024];
    uint64_t done = 0;
    while (done < entry.meta.body_size) {
      const size_t want = std::min<uint64_t>(sizeof(buf), entry.meta.body_size - done);
      const ssize_t n = ::pread(fd, buf, want, static_cast<off_t>(entry.body_offset + done));
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) break;
      sha.update(buf, static_cast<size_t>(n));
      done += static_cast<uint64_t>(n);
    }
    result = done == entry.meta.body_size
                 ? absl::StatusOr<std::string>(sumdb::GoModHash(sha.finish()))
                 : absl::DataLossError("short read");
  }
  ::close(fd);
  return result;
}

// One run: a queue of keys worked through kParallel at a time.
class Run : public std::enable_shared_from_this<Run> {
 public:
  Run(GoproxyConfigSharedPtr config, WorkerContext& worker,
      std::shared_ptr<CacheVerifyReport> report, std::vector<Request> requests)
      : config_(std::move(config)),
        worker_(worker),
        report_(std::move(report)),
        requests_(std::move(requests)) {}

  void start() {
    for (size_t i = 0; i < kParallel; ++i) next();
    if (requests_.empty() && active_ == 0) report_->finish();
  }

 private:
  void next() {
    if (next_ >= requests_.size()) return;
    const Request request = requests_[next_++];
    ++active_;
    std::shared_ptr<const cache::Entry> entry = config_->cache->lookup(request.cache_key);
    if (entry == nullptr || !entry->stored() || entry->meta.status != 200) {
      done(&CacheVerifyReport::Counts::skipped);
      return;
    }
    if (!VerifyingSink::applies(*config_, request)) {
      done(&CacheVerifyReport::Counts::skipped);
      return;
    }
    auto state = std::make_shared<Check>();
    state->request = request;
    state->entry = entry;
    auto self = shared_from_this();
    const bool zip = request.kind == RequestKind::kZip;
    event::Dispatcher* dispatcher = &worker_.dispatcher();
    auto hash = [self, state, zip, dispatcher] {
      auto result = hashEntry(*state->entry, zip);
      dispatcher->post([self, state, result] {
        state->actual = result;
        self->decide(*state);
      });
    };
    if (config_->hash_pool != nullptr) {
      config_->hash_pool->post(hash);
    } else {
      hash();
    }
    lookupVerifiedHash(config_, worker_, request.module, request.version, !zip,
                       [self, state](absl::StatusOr<std::string> expected) {
                         state->expected = std::move(expected);
                         self->decide(*state);
                       });
  }

  struct Check {
    Request request;
    std::shared_ptr<const cache::Entry> entry;
    std::optional<absl::StatusOr<std::string>> actual;
    std::optional<absl::StatusOr<std::string>> expected;
  };

  void decide(Check& check) {
    if (!check.actual.has_value() || !check.expected.has_value()) return;
    const std::string& key = check.request.cache_key;
    if (!check.expected->ok()) {
      report_->add(absl::StrCat("cannot verify ", key, ": ",
                                std::string(check.expected->status().message()), " (kept)"));
      done(&CacheVerifyReport::Counts::unverifiable);
      return;
    }
    if (check.actual->ok() && **check.actual == **check.expected) {
      done(&CacheVerifyReport::Counts::ok);
      return;
    }
    // Only if the index still holds the file that was hashed: a newer,
    // verified fill may have replaced it meanwhile.
    std::shared_ptr<const cache::Entry> now = config_->cache->lookup(key);
    if (now == nullptr || now->file_id != check.entry->file_id) {
      done(&CacheVerifyReport::Counts::skipped);
      return;
    }
    config_->cache->remove(key);
    const std::string why =
        check.actual->ok() ? absl::StrCat("cached ", **check.actual, ", ",
                                          config_->verification->sumdb, " has ", **check.expected)
                           : std::string(check.actual->status().message());
    const std::string line = absl::StrCat("removed ", key, ": ", why);
    LOG_WARN("verify-cache: ", line);
    report_->add(line);
    done(&CacheVerifyReport::Counts::removed);
  }

  void done(uint64_t CacheVerifyReport::Counts::*which) {
    report_->count(which);
    --active_;
    next();
    if (next_ >= requests_.size() && active_ == 0) report_->finish();
  }

  GoproxyConfigSharedPtr config_;
  WorkerContext& worker_;
  std::shared_ptr<CacheVerifyReport> report_;
  std::vector<Request> requests_;
  size_t next_ = 0;
  size_t active_ = 0;
};

}  // namespace

void CacheVerifyReport::start(uint64_t total) {
  std::lock_guard<std::mutex> lock(mu_);
  running_ = true;
  finished_ = false;
  counts_ = Counts();
  counts_.total = total;
  lines_.clear();
}

void CacheVerifyReport::add(const std::string& line) {
  std::lock_guard<std::mutex> lock(mu_);
  lines_.push_back(line);
}

void CacheVerifyReport::count(uint64_t Counts::*which) {
  std::lock_guard<std::mutex> lock(mu_);
  ++(counts_.*which);
  ++counts_.checked;
}

void CacheVerifyReport::finish() {
  std::lock_guard<std::mutex> lock(mu_);
  running_ = false;
  finished_ = true;
}

bool CacheVerifyReport::running() const {
  std::lock_guard<std::mutex> lock(mu_);
  return running_;
}

std::string CacheVerifyReport::text() const {
  std::lock_guard<std::mutex> lock(mu_);
  std::string out;
  if (!running_ && !finished_) return "no verify-cache run yet (POST /verify_cache)\n";
  absl::StrAppend(&out, running_ ? "running" : "done", ": ", counts_.checked, " of ", counts_.total,
                  " checked, ", counts_.ok, " ok, ", counts_.removed, " removed, ",
                  counts_.unverifiable, " not verifiable, ", counts_.skipped, " skipped\n");
  for (const std::string& line : lines_) absl::StrAppend(&out, line, "\n");
  return out;
}

void verifyCache(GoproxyConfigSharedPtr config, WorkerContext& worker,
                 std::shared_ptr<CacheVerifyReport> report) {
  std::vector<Request> requests;
  if (config->verification != nullptr) {
    // Sorted, so that a run reports in a stable order.
    std::vector<std::string> keys;
    for (const auto& entry : config->cache->entries()) keys.push_back(entry->key);
    std::sort(keys.begin(), keys.end());
    for (const std::string& key : keys) {
      auto parsed = modgate::goproxy::ParseRequest(absl::StrCat("/", key));
      const Request* request = std::get_if<Request>(&parsed);
      if (request == nullptr) continue;
      if (request->kind != RequestKind::kMod && request->kind != RequestKind::kZip) continue;
      requests.push_back(*request);
    }
  } else {
    report->start(0);
    report->add("no checksum database has a key (sumdbs[].key): nothing to verify against");
    report->finish();
    return;
  }
  report->start(requests.size());
  std::make_shared<Run>(std::move(config), worker, std::move(report), std::move(requests))->start();
}

}  // namespace modgate::filters::goproxy
