#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "source/cache/inflight.h"
#include "source/filters/goproxy/fetch.h"
#include "source/filters/goproxy/goproxy_config.h"
#include "source/filters/goproxy/worker_context.h"
#include "source/filters/goproxy/zip_body_hasher.h"
#include "source/sumdb/digest.h"

namespace modgate::filters::goproxy {

// Nothing unverified enters the cache: sits in front of a held cache fill
// (CacheFillSink with hold) of a .mod or .zip and lets the fetch accept the
// body only when its go.sum hash is the one the checksum database vouches
// for. Clients see no byte of the body before that.
//
// Two things run side by side while the body streams into its temp file:
//  - the expected hash: the database's lookup for module@version (its tree
//    head signed by the configured key), the record proven in that tree
//    with hashes from tiles, and the record's go.sum line. Lookups and
//    tiles are read through the cache (readSumdbFile), as clients' are;
//  - the body's hash: a .mod is hashed as it passes (SHA-256, then
//    dirhash's one-line summary); a .zip is hashed as it streams, read back
//    from the temp file on the hash pool (ZipBodyHasher), and checked
//    against its central directory once the last byte is there (the
//    central directory is at the end: it has the last word). A zip that
//    does not stream cleanly is hashed whole from the file, as before.
// Then the verdict: accept (the fill commits and every waiter is served),
// reject (hash mismatch or not a zip: the fetch blames the host and asks
// the next upstream; this sink keeps the expected hash for it), or
// unverifiable (the database failed us: 502, nothing cached).
class VerifyingSink : public FetchSink {
 public:
  VerifyingSink(std::unique_ptr<FetchSink> inner, std::shared_ptr<cache::Inflight> inflight,
                GoproxyConfigSharedPtr config, WorkerContext& worker,
                const modgate::goproxy::Request& request);
  ~VerifyingSink() override;

  // Whether a request's module content must be verified under `config`.
  static bool applies(const GoproxyConfig& config, const modgate::goproxy::Request& request);
  // What the cache fill shows its waiters before the verdict: nothing
  // (kWhole), all but the last byte of a zip with stream_zips (kLastByte),
  // or everything when the request is not verified (kNone).
  static cache::Inflight::Hold hold(const GoproxyConfig& config,
                                    const modgate::goproxy::Request& request);

  void onFetchStart(int64_t content_length) override;
  void onFetchData(buffer::Buffer& data) override;
  void onFetchComplete(uint64_t total_bytes) override { inner_->onFetchComplete(total_bytes); }
  void onFetchNotFound(int status, std::string reason) override {
    inner_->onFetchNotFound(status, std::move(reason));
  }
  void onFetchFailed(int status, std::string reason) override {
    inner_->onFetchFailed(status, std::move(reason));
  }
  uint64_t pendingBytes() const override { return inner_->pendingBytes(); }
  void countPendingIn(cache::SharedPendingBytes total) override {
    inner_->countPendingIn(std::move(total));
  }
  bool checksBody() const override { return true; }
  void checkBody(uint64_t total_bytes, std::function<void(BodyVerdict)> verdict) override;
  void onFetchDiscarded() override;

 private:
  void onExpected(absl::StatusOr<std::string> hash);
  void onActual(absl::StatusOr<std::string> hash);
  void decide();
  std::unique_ptr<ZipBodyHasher> newZipHasher();

  std::unique_ptr<FetchSink> inner_;
  std::shared_ptr<cache::Inflight> inflight_;
  GoproxyConfigSharedPtr config_;
  event::Dispatcher& dispatcher_;
  const std::string module_;
  const std::string version_;
  const bool zip_;
  crypto::Sha256 mod_sha_;
  // The current zip body's hash (one per body).
  std::unique_ptr<ZipBodyHasher> zip_hasher_;
  std::optional<absl::StatusOr<std::string>> expected_;
  std::optional<absl::StatusOr<std::string>> actual_;
  std::function<void(BodyVerdict)> verdict_;
  // Which body an actual hash belongs to: a late one for a discarded body
  // is dropped.
  uint64_t body_generation_ = 0;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

// Looks up the go.sum hash that checksum database `verification` vouches
// for (zip, or with `go_mod` the go.mod), checking signature and proof;
// `cb` runs on `worker`'s dispatcher. Errors say which step failed.
void lookupVerifiedHash(const GoproxyConfigSharedPtr& config, WorkerContext& worker,
                        const std::string& module, const std::string& version, bool go_mod,
                        std::function<void(absl::StatusOr<std::string>)> cb);

}  // namespace modgate::filters::goproxy
