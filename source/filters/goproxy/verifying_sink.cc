#include "source/filters/goproxy/verifying_sink.h"

#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "source/common/crypto/buffer_hash.h"
#include "source/filters/goproxy/cached_files.h"
#include "source/goproxy/module_path.h"
#include "source/router/route_table.h"
#include "source/sumdb/dirhash.h"
#include "source/sumdb/lookup.h"

namespace modgate::filters::goproxy {
namespace {

using modgate::goproxy::RequestKind;

// One lookup and the tiles its proof needs, gathered on one dispatcher.
struct LookupState {
  GoproxyConfigSharedPtr config;
  WorkerContext* worker;
  std::string module;
  std::string version;
  bool go_mod;
  std::function<void(absl::StatusOr<std::string>)> cb;
  sumdb::VerifiedLookup lookup;
  absl::flat_hash_map<std::string, std::string> tiles;
  size_t pending = 0;
  bool ended = false;

  void end(absl::StatusOr<std::string> result) {
    if (ended) return;
    ended = true;
    cb(std::move(result));
  }
  void fail(std::string_view step, const absl::Status& status) {
    end(absl::Status(status.code(),
                     absl::StrCat(std::string(step), ": ", std::string(status.message()))));
  }
  void prove() {
    if (absl::Status proven = sumdb::CheckLookupProof(lookup, tiles); !proven.ok()) {
      fail("record not proven in the signed tree", proven);
      return;
    }
    end(sumdb::GoSumHash(lookup.record.text, module, version, go_mod));
  }
};

}  // namespace

void lookupVerifiedHash(const GoproxyConfigSharedPtr& config, WorkerContext& worker,
                        const std::string& module, const std::string& version, bool go_mod,
                        std::function<void(absl::StatusOr<std::string>)> cb) {
  auto state = std::make_shared<LookupState>();
  state->config = config;
  state->worker = &worker;
  state->module = module;
  state->version = version;
  state->go_mod = go_mod;
  state->cb = std::move(cb);
  auto escaped_module = modgate::goproxy::EscapePath(module);
  auto escaped_version = modgate::goproxy::EscapeVersion(version);
  if (!escaped_module.ok() || !escaped_version.ok()) {
    state->end(absl::InvalidArgumentError("module path or version cannot be looked up"));
    return;
  }
  const ModuleVerification& verification = *config->verification;
  readSumdbFile(config, worker, verification.sumdb,
                absl::StrCat("lookup/", *escaped_module, "@", *escaped_version),
                [state](absl::StatusOr<std::string> body) {
                  if (!body.ok()) {
                    state->fail("lookup", body.status());
                    return;
                  }
                  auto opened = sumdb::OpenLookup(*body, state->config->verification->verifier);
                  if (!opened.ok()) {
                    state->fail("lookup", opened.status());
                    return;
                  }
                  state->lookup = *std::move(opened);
                  const std::vector<std::string> paths =
                      sumdb::ProofTiles(state->lookup.tree.n, state->lookup.record.id);
                  state->pending = paths.size();
                  if (paths.empty()) {
                    state->prove();
                    return;
                  }
                  for (const std::string& path : paths) {
                    readSumdbFile(state->config, *state->worker, state->config->verification->sumdb,
                                  path, [state, path](absl::StatusOr<std::string> tile) {
                                    if (state->ended) return;
                                    if (!tile.ok()) {
                                      state->fail(path, tile.status());
                                      return;
                                    }
                                    state->tiles[path] = *std::move(tile);
                                    if (--state->pending == 0) state->prove();
                                  });
                  }
                });
}

VerifyingSink::VerifyingSink(std::unique_ptr<FetchSink> inner,
                             std::shared_ptr<cache::Inflight> inflight,
                             GoproxyConfigSharedPtr config, WorkerContext& worker,
                             const modgate::goproxy::Request& request)
    : inner_(std::move(inner)),
      inflight_(std::move(inflight)),
      config_(std::move(config)),
      dispatcher_(worker.dispatcher()),
      module_(request.module),
      version_(request.version),
      zip_(request.kind == RequestKind::kZip) {
  // The expected hash is looked up while the body downloads.
  std::weak_ptr<bool> alive = alive_;
  lookupVerifiedHash(config_, worker, module_, version_, !zip_,
                     [this, alive](absl::StatusOr<std::string> hash) {
                       if (alive.expired()) return;
                       onExpected(std::move(hash));
                     });
}

VerifyingSink::~VerifyingSink() { alive_.reset(); }

bool VerifyingSink::applies(const GoproxyConfig& config, const modgate::goproxy::Request& request) {
  if (config.verification == nullptr) return false;
  if (request.kind != RequestKind::kMod && request.kind != RequestKind::kZip) return false;
  return !router::matchPrefixPatterns(config.verification->nosum, request.module);
}

cache::Inflight::Hold VerifyingSink::hold(const GoproxyConfig& config,
                                          const modgate::goproxy::Request& request) {
  if (!applies(config, request)) return cache::Inflight::Hold::kNone;
  if (request.kind == RequestKind::kZip && config.verification->stream_zips) {
    return cache::Inflight::Hold::kLastByte;
  }
  return cache::Inflight::Hold::kWhole;
}

void VerifyingSink::onFetchStart(int64_t content_length) {
  mod_sha_.reset();
  actual_.reset();
  inner_->onFetchStart(content_length);
  // A new body (a retry after a discarded one): a new hash from its start.
  if (zip_) zip_hasher_ = newZipHasher();
}

void VerifyingSink::onFetchData(buffer::Buffer& data) {
  if (!zip_) {
    crypto::hashBuffer(data, mod_sha_);
    inner_->onFetchData(data);
    return;
  }
  const uint64_t bytes = data.length();
  inner_->onFetchData(data);
  if (zip_hasher_ == nullptr) zip_hasher_ = newZipHasher();
  zip_hasher_->onReceived(bytes);
}

void VerifyingSink::checkBody(uint64_t total_bytes, std::function<void(BodyVerdict)> verdict) {
  verdict_ = std::move(verdict);
  if (!zip_) {
    actual_ = sumdb::GoModHash(mod_sha_.finish());
    decide();
    return;
  }
  // The zip was hashed while it streamed; what is left is the end of the
  // body and the check against its central directory (zip_body_hasher.h).
  if (zip_hasher_ == nullptr) zip_hasher_ = newZipHasher();
  std::weak_ptr<bool> alive = alive_;
  const uint64_t generation = body_generation_;
  zip_hasher_->finish(total_bytes,
                      [this, alive, generation](absl::StatusOr<std::string> hash, bool file_pass) {
                        if (alive.expired() || generation != body_generation_) return;
                        if (file_pass && config_->stats != nullptr)
                          config_->stats->verify_zip_file_pass->Increment();
                        onActual(std::move(hash));
                      });
}

std::unique_ptr<ZipBodyHasher> VerifyingSink::newZipHasher() {
  return std::make_unique<ZipBodyHasher>(inflight_, config_->hash_pool, dispatcher_);
}

void VerifyingSink::onFetchDiscarded() {
  ++body_generation_;
  zip_hasher_.reset();
  actual_.reset();
  verdict_ = nullptr;
  inner_->onFetchDiscarded();
}

void VerifyingSink::onExpected(absl::StatusOr<std::string> hash) {
  expected_ = std::move(hash);
  decide();
}

void VerifyingSink::onActual(absl::StatusOr<std::string> hash) {
  actual_ = std::move(hash);
  decide();
}

void VerifyingSink::decide() {
  if (!verdict_ || !expected_.has_value() || !actual_.has_value()) return;
  const std::string what = absl::StrCat(module_, "@", version_, zip_ ? " (zip)" : " (go.mod)");
  const std::string& db = config_->verification->sumdb;
  BodyVerdict verdict;
  if (!expected_->ok()) {
    verdict.kind = BodyVerdict::Kind::kUnverifiable;
    verdict.reason = absl::StrCat("cannot verify ", what, " against checksum database ", db, ": ",
                                  std::string(expected_->status().message()));
  } else if (!actual_->ok()) {
    verdict.kind = BodyVerdict::Kind::kReject;
    verdict.reason = absl::StrCat(
        what, " is not a valid module zip: ", std::string(actual_->status().message()));
  } else if (**actual_ != **expected_) {
    verdict.kind = BodyVerdict::Kind::kReject;
    verdict.reason = absl::StrCat("checksum mismatch for ", what, ": downloaded ", **actual_, ", ",
                                  db, " has ", **expected_);
  }
  if (stats::Stats* stats = config_->stats; stats != nullptr) {
    switch (verdict.kind) {
      case BodyVerdict::Kind::kAccept:
        stats->verify_ok->Increment();
        break;
      case BodyVerdict::Kind::kReject:
        stats->verify_mismatch->Increment();
        break;
      case BodyVerdict::Kind::kUnverifiable:
        stats->verify_unverifiable->Increment();
        break;
    }
  }
  auto cb = std::move(verdict_);
  verdict_ = nullptr;
  cb(std::move(verdict));
}

}  // namespace modgate::filters::goproxy
