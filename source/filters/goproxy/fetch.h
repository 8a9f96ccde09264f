#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "source/cache/entry_writer.h"
#include "source/common/event/dispatcher.h"
#include "source/common/http/filter.h"
#include "source/common/stats/stats.h"
#include "source/filters/goproxy/disk_backlog.h"
#include "source/goproxy/request.h"
#include "source/router/route_table.h"
#include "source/upstream/cluster/cluster.h"
#include "source/upstream/health/outlier_result.h"
#include "source/upstream/http_client.h"

namespace modgate::filters::goproxy {

// What a sink that checks bodies says of one (FetchSink::checkBody).
struct BodyVerdict {
  enum class Kind {
    kAccept,
    // The upstream's bytes are wrong (a hash mismatch): its host is counted
    // as failing and the chain's next upstream is asked.
    kReject,
    // The check itself could not be made (checksum database unreachable,
    // unsigned, not proving the record): the fetch fails with a 502.
    kUnverifiable,
  };
  Kind kind = Kind::kAccept;
  std::string reason;
};

// Where a fetch delivers what it got. The cache (through single flight) for
// cacheable answers, a small in-memory buffer for pass-through queries.
class FetchSink {
 public:
  virtual ~FetchSink() = default;
  // A 200 answer began; content_length is -1 when the upstream did not say.
  virtual void onFetchStart(int64_t content_length) = 0;
  virtual void onFetchData(buffer::Buffer& data) = 0;
  virtual void onFetchComplete(uint64_t total_bytes) = 0;
  // Every step of the chain said 404/410: `reason` is the last upstream's text.
  virtual void onFetchNotFound(int status, std::string reason) = 0;
  // The chain ended in an error. `status` is what to answer (502, 503, 504,
  // or an upstream 4xx passed through); `reason` one line for the go command.
  virtual void onFetchFailed(int status, std::string reason) = 0;
  // The upstream's validators of a 200 answer ("" when it sent none), told
  // before onFetchStart: kept with the entry to revalidate it later.
  virtual void onFetchValidators(const std::string& /*etag*/,
                                 const std::string& /*last_modified*/) {}
  // A conditional fetch (Target::if_none_match / if_modified_since) got a
  // 304: what the sink already holds is still current.
  virtual void onFetchNotModified() { onFetchFailed(502, "upstream answered 304 unasked"); }
  // Bytes handed over but not yet stored. Only a fetch with some pending
  // pauses its upstream (while its worker's total is over the budget), so
  // a slow disk cannot fill memory.
  virtual uint64_t pendingBytes() const { return 0; }
  // Where to count those bytes too, from now on: the worker's total over
  // all its fetches (DiskBacklog::total), which they are added to when
  // queued and taken from when written or dropped, on any thread.
  virtual void countPendingIn(cache::SharedPendingBytes /*total*/) {}

  // A sink that must check a whole body before it is accepted (module
  // content against the checksum database) says so here; the fetch then
  // calls checkBody() when the body ends, and onFetchComplete() only on
  // kAccept.
  virtual bool checksBody() const { return false; }
  // Runs `verdict` once, later, on the fetch's dispatcher.
  virtual void checkBody(uint64_t /*total_bytes*/, std::function<void(BodyVerdict)> verdict) {
    verdict(BodyVerdict{});
  }
  // The body was rejected; another upstream may start a new one
  // (onFetchStart again).
  virtual void onFetchDiscarded() {}
};

// What a fetch needs from its worker: a host of a cluster (the worker's
// load balancer) and a client for that host's settings.
class UpstreamContext {
 public:
  virtual ~UpstreamContext() = default;
  virtual upstream::HostSharedPtr chooseHost(const upstream::Cluster& cluster,
                                             upstream::LoadBalancerContext* context) = 0;
  virtual upstream::HttpClient& clientFor(const upstream::Endpoint& endpoint) = 0;
  // The worker's bytes waiting for the disk, under one budget for all its
  // fetches; nullptr: each fetch is bounded alone.
  virtual DiskBacklog* diskBacklog() { return nullptr; }
};

// One GET walked along a fallback chain with GOPROXY semantics: within a
// step, retries to other hosts of the cluster (the cluster's retry policy,
// within its circuit breakers); across steps, the next cluster is asked
// after 404/410 (',') or after any error ('|'). Never once body bytes were
// passed on, except that a .zip whose transfer breaks (reset, stall) is
// resumed, as a retry, with a Range request for the missing bytes that must
// come back as the same file (206, same total, same ETag). A fetch lives on the worker that started
// it and does not depend on any client stream: clients come and go, the fetch completes and fills
// the cache.
//
// Back-pressure: while the worker's bytes waiting for the disk (DiskBacklog)
// are over `max_pending_bytes` and some of them are this fetch's own, the
// fetch stops reading its upstream; it reads again once the total is down to
// half the budget, or its own bytes are all written. A fetch with nothing
// queued never waits: it cannot lower the total by waiting, and fetches
// waiting on each other would never resume.
class Fetch : public upstream::ResponseCallbacks,
              public upstream::LoadBalancerContext,
              public DiskBacklog::Reader,
              public event::DeferredDeletable {
 public:
  struct Target {
    std::vector<router::ChainStep> chain;
    // Path to ask each step's endpoint for, per step (a checksum database
    // with its own URL is asked without the /sumdb/<name> prefix).
    std::vector<std::string> paths;
    modgate::goproxy::RequestKind kind;
    // Affinity for hashing balancers: every version of a module goes to
    // the same host of a tier.
    uint64_t hash_key = 0;
    // Validators of an expired copy, sent as If-None-Match /
    // If-Modified-Since so an unchanged list costs the upstream a 304.
    std::string if_none_match;
    std::string if_modified_since;
    // Where the fetch writes what it did for the access log of the stream
    // that started it; null when nobody asks (a background refresh).
    std::shared_ptr<http::UpstreamInfo> upstream_info;
    // Where every attempt counts besides its step's recorder: the node's
    // total (RouteTable::totalOutcomes); null for shadow fetches.
    std::shared_ptr<canary::OutcomeRecorder> total_outcomes;
  };

  Fetch(event::Dispatcher& dispatcher, UpstreamContext& upstream, Target target, FetchSink& sink,
        uint64_t max_pending_bytes, std::function<void(Fetch&)> on_done);
  ~Fetch() override;

  void start();

  // upstream::ResponseCallbacks
  void onResponseHeaders(std::unique_ptr<http::ResponseHeaders> headers, bool end_stream) override;
  void onResponseData(buffer::Buffer& data, bool end_stream) override;
  void onFailure(upstream::FailureReason reason, std::string_view detail) override;

  // upstream::LoadBalancerContext
  std::optional<uint64_t> hashKey() const override { return target_.hash_key; }
  bool shouldSelectAnotherHost(const upstream::Host& host) const override;
  uint32_t hostSelectionRetryCount() const override;

 private:
  // DiskBacklog::Reader
  void onBacklogOverBudget() override { checkBackPressure(); }

  enum class State {
    kIdle,
    kBackoff,
    kAwaitingHeaders,
    kStreaming,
    kCollectingError,
    kVerifying,
    kDone
  };
  const upstream::Cluster& cluster() const { return *target_.chain[step_].cluster; }
  void startStep();
  void startAttempt();
  // Ends the current attempt's accounting (active requests, host counters).
  void endAttempt(int code_class_index);
  // A rollout's gates: the attempt's outcome for the step's recorder, if
  // any, and for the node's total.
  void recordOutcome(canary::Outcome outcome);
  // The retry this attempt is stops counting as one in flight.
  void releaseRetry();
  // Passive health: the attempt's outcome for the host's outlier monitor.
  void reportOutlier(upstream::OutlierResult result);
  // Retries within the step if the policy allows; true if one is scheduled.
  bool maybeRetry(bool connect_failure, bool reset_or_timeout, int status);
  // A .zip failed mid-body (reset or stalled): schedules a retry asking for
  // the missing bytes (Range) if the policy allows; true if one is.
  bool maybeResume(upstream::FailureReason reason, const std::string& text);
  // Why a resumed answer cannot continue the body ("" if it can): a 206
  // whose Content-Range starts at received_ with the same total, and the
  // same ETag when the first answer had one.
  std::string resumeMismatch(const http::ResponseHeaders& headers) const;
  void onResumeHeaders(const http::ResponseHeaders& headers, bool end_stream);
  // Moves to the next step if the current one's separator allows it.
  bool advance(bool not_found);
  void stepFailed(int status, std::string reason);
  void finishNotFound();
  // The 200 body ended: accept it, or have the sink check it first.
  void bodyComplete();
  void onVerdict(BodyVerdict verdict);
  void finishFailed(int status, std::string reason);
  void finishError();
  void done();
  void checkBackPressure();
  // Whether the worker's backlog counts this fetch among those reading.
  void setReading(bool reading);

  event::Dispatcher& dispatcher_;
  UpstreamContext& upstream_;
  Target target_;
  FetchSink& sink_;
  const uint64_t max_pending_bytes_;
  std::function<void(Fetch&)> on_done_;
  // nullptr when the budget is this fetch's alone (or there is none).
  DiskBacklog* const backlog_;
  bool reading_ = false;

  size_t step_ = 0;
  uint32_t retries_ = 0;
  State state_ = State::kIdle;
  upstream::UpstreamRequest* request_ = nullptr;
  upstream::HostSharedPtr host_;  // the current attempt's host
  bool counted_as_retry_ = false;
  std::vector<const upstream::Host*> attempted_;
  event::MonotonicTime attempt_started_;
  int status_ = 0;
  std::string error_body_;
  uint64_t received_ = 0;
  int64_t content_length_ = -1;
  bool paused_ = false;
  // A .zip that failed mid-body is being resumed from received_ (its first
  // received_ bytes already went to the sink).
  bool resuming_ = false;
  // The first answer's strong ETag ("" if none), which a resumed answer
  // must repeat; a weak one rules resuming out.
  std::string etag_;
  bool etag_weak_ = false;
  event::TimerPtr resume_timer_;
  event::TimerPtr backoff_timer_;
  std::string last_error_;
  // The host whose body is being checked (kVerifying), to blame if it lied.
  upstream::HostSharedPtr checked_host_;
  // Lets a verdict that arrives after the fetch is gone do nothing.
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace modgate::filters::goproxy
