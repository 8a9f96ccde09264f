#include "source/filters/goproxy/fetch.h"

#include <algorithm>
#include <random>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "source/common/common/logger.h"
#include "source/filters/goproxy/goproxy_config.h"

namespace modgate::filters::goproxy {
namespace {
// An upstream's error text is shown to the user; keep it to a line or so.
constexpr size_t kMaxErrorBody = 1024;

std::string firstLine(std::string text) {
  size_t newline = text.find('\n');
  if (newline != std::string::npos) text.resize(newline);
  while (!text.empty() && (text.back() == '\r' || text.back() == ' ')) text.pop_back();
  return text;
}

uint64_t jitterRandom() {
  thread_local std::mt19937_64 engine(std::random_device{}());
  return engine();
}
}  // namespace

Fetch::Fetch(event::Dispatcher& dispatcher, UpstreamContext& upstream, Target target,
             FetchSink& sink, uint64_t max_pending_bytes, std::function<void(Fetch&)> on_done)
    : dispatcher_(dispatcher),
      upstream_(upstream),
      target_(std::move(target)),
      sink_(sink),
      max_pending_bytes_(max_pending_bytes),
      on_done_(std::move(on_done)),
      backlog_(max_pending_bytes == 0 ? nullptr : upstream.diskBacklog()) {
  if (backlog_ != nullptr) sink_.countPendingIn(backlog_->total());
}

Fetch::~Fetch() {
  alive_.reset();
  setReading(false);
  if (request_ != nullptr) {
    request_->cancel();
    request_ = nullptr;
  }
  endAttempt(0);
}

void Fetch::start() { startStep(); }

bool Fetch::shouldSelectAnotherHost(const upstream::Host& host) const {
  if (!cluster().info().retry.avoid_previous_hosts) return false;
  return std::find(attempted_.begin(), attempted_.end(), &host) != attempted_.end();
}

uint32_t Fetch::hostSelectionRetryCount() const {
  return cluster().info().retry.avoid_previous_hosts
             ? cluster().info().retry.host_selection_retry_max_attempts
             : 0;
}

void Fetch::startStep() {
  retries_ = 0;
  attempted_.clear();
  startAttempt();
}

void Fetch::startAttempt() {
  upstream::Cluster& cluster = *target_.chain[step_].cluster;
  state_ = State::kAwaitingHeaders;
  if (http::UpstreamInfo* info = target_.upstream_info.get()) {
    if (info->attempts++ == 0) info->start_time = dispatcher_.now();
    info->cluster = cluster.name();
    info->host.clear();
    info->status = 0;
    info->headers_time.reset();
  }
  status_ = 0;
  error_body_.clear();
  if (resuming_) {
    // The failed answer's back-pressure went with it.
    paused_ = false;
    if (resume_timer_) resume_timer_->disableTimer();
  } else {
    received_ = 0;
    content_length_ = -1;
  }
  if (!cluster.requestAllowed()) {
    // Circuit breaker: the cluster has max_requests in flight already.
    cluster.stats().rq_overflow->Increment();
    recordOutcome(canary::Outcome::kUpstreamFailure);
    endAttempt(0);
    stepFailed(
        503, absl::StrCat("upstream cluster ", cluster.name(), " overflow: max_requests reached"));
    return;
  }
  host_ = upstream_.chooseHost(cluster, this);
  if (host_ == nullptr) {
    cluster.stats().no_healthy_host->Increment();
    recordOutcome(canary::Outcome::kUpstreamFailure);
    endAttempt(0);
    stepFailed(503, absl::StrCat("upstream cluster ", cluster.name(), " has no host"));
    return;
  }
  attempted_.push_back(host_.get());
  attempt_started_ = dispatcher_.now();
  if (target_.upstream_info != nullptr) target_.upstream_info->host = host_->name;
  host_->active_requests.fetch_add(1, std::memory_order_relaxed);
  cluster.active_requests.fetch_add(1, std::memory_order_relaxed);
  const upstream::Endpoint& endpoint = upstream::Cluster::endpoint(*host_);
  upstream::RequestOptions options = cluster.info().request_options;
  options.limits.host_connections = endpoint.connections;
  const auto per_try = cluster.info().retry.per_try_timeout;
  if (per_try.count() > 0) {
    // Bounds each attempt's wait for response headers; a stalled body is
    // bounded by the idle timeout instead, so large zips are not cut.
    options.response_timeout = std::min(options.response_timeout, per_try);
  }
  http::HeaderMap extra;
  if (resuming_) {
    // Only the missing bytes, and only of the file the first bytes came
    // from (a strong ETag; without one, Content-Range's total is checked).
    extra.add("range", absl::StrCat("bytes=", received_, "-"));
    if (!etag_.empty()) extra.add("if-range", etag_);
  } else {
    if (!target_.if_none_match.empty()) extra.add("if-none-match", target_.if_none_match);
    if (!target_.if_modified_since.empty()) {
      extra.add("if-modified-since", target_.if_modified_since);
    }
  }
  request_ =
      upstream_.clientFor(endpoint).send(endpoint.url, target_.paths[step_], extra, *this, options);
}

void Fetch::reportOutlier(upstream::OutlierResult result) {
  if (host_ == nullptr) return;
  const upstream::Endpoint& endpoint = upstream::Cluster::endpoint(*host_);
  if (endpoint.outlier != nullptr) endpoint.outlier->putResult(result);
}

void Fetch::recordOutcome(canary::Outcome outcome) {
  const auto& outcomes = target_.chain[step_].outcomes;
  if (outcomes == nullptr && target_.total_outcomes == nullptr) return;
  const event::MonotonicTime now = dispatcher_.now();
  const auto latency =
      host_ == nullptr
          ? std::chrono::microseconds(0)
          : std::chrono::duration_cast<std::chrono::microseconds>(now - attempt_started_);
  if (outcomes != nullptr) outcomes->record(outcome, latency, now);
  if (target_.total_outcomes != nullptr) target_.total_outcomes->record(outcome, latency, now);
}

void Fetch::releaseRetry() {
  if (!counted_as_retry_) return;
  target_.chain[step_].cluster->active_retries.fetch_sub(1, std::memory_order_relaxed);
  counted_as_retry_ = false;
}

void Fetch::endAttempt(int code_class_index) {
  upstream::Cluster& cluster = *target_.chain[step_].cluster;
  releaseRetry();
  if (host_ == nullptr) return;
  upstream::Endpoint& endpoint = upstream::Cluster::endpoint(*host_);
  if (endpoint.rq_by_class[code_class_index] != nullptr) {
    endpoint.rq_by_class[code_class_index]->Increment();
  }
  host_->active_requests.fetch_sub(1, std::memory_order_relaxed);
  cluster.active_requests.fetch_sub(1, std::memory_order_relaxed);
  host_.reset();
}

bool Fetch::maybeRetry(bool connect_failure, bool reset_or_timeout, int status) {
  upstream::Cluster& cluster = *target_.chain[step_].cluster;
  const upstream::RetryPolicy& policy = cluster.info().retry;
  if (retries_ >= policy.num_retries) return false;
  const uint32_t on = policy.retry_on;
  bool retriable = false;
  if (connect_failure) {
    retriable = on & (upstream::kRetryOnConnectFailure | upstream::kRetryOnReset |
                      upstream::kRetryOnGatewayError | upstream::kRetryOn5xx);
  } else if (reset_or_timeout) {
    retriable =
        on & (upstream::kRetryOnReset | upstream::kRetryOnGatewayError | upstream::kRetryOn5xx);
  } else if (status >= 500) {
    const bool gateway = status == 502 || status == 503 || status == 504;
    retriable = (on & upstream::kRetryOn5xx) || (gateway && (on & upstream::kRetryOnGatewayError));
  }
  if (!retriable) return false;
  if (!cluster.retryAllowed()) {
    cluster.stats().rq_retry_overflow->Increment();
    return false;
  }
  ++retries_;
  cluster.stats().rq_retry->Increment();
  // A retry counts against max_retries / the retry budget from now (its
  // backoff included, as in Envoy): otherwise a burst of failures would all
  // pass the check before any of their retries started.
  cluster.active_retries.fetch_add(1, std::memory_order_relaxed);
  counted_as_retry_ = true;
  // Full-jitter exponential backoff (Envoy): uniform in [0, base * 2^n),
  // capped at max_interval.
  const uint64_t base = static_cast<uint64_t>(policy.base_interval.count());
  const uint64_t ceiling = std::min<uint64_t>(static_cast<uint64_t>(policy.max_interval.count()),
                                              base << std::min<uint32_t>(retries_ - 1, 20));
  const uint64_t delay = ceiling == 0 ? 0 : jitterRandom() % (ceiling + 1);
  state_ = State::kBackoff;
  if (!backoff_timer_) {
    backoff_timer_ = dispatcher_.createTimer([this] { startAttempt(); });
  }
  backoff_timer_->enableTimer(std::chrono::milliseconds(delay));
  return true;
}

bool Fetch::advance(bool not_found) {
  // Bytes already went to the sink: another cluster cannot finish them.
  if (resuming_) return false;
  if (step_ + 1 >= target_.chain.size()) return false;
  const router::ChainStep& step = target_.chain[step_];
  const bool allowed = not_found ? step.on != router::Fallthrough::kServerError
                                 : step.on != router::Fallthrough::kNotFound;
  if (!allowed) return false;
  ++step_;
  request_ = nullptr;
  startStep();
  return true;
}

void Fetch::stepFailed(int status, std::string reason) {
  last_error_ = reason;
  if (advance(false)) return;
  finishFailed(status, std::move(reason));
}

void Fetch::onResponseHeaders(std::unique_ptr<http::ResponseHeaders> headers, bool end_stream) {
  status_ = headers->status;
  if (stats::LatencyHistogram* histogram = cluster().stats().time_to_headers) {
    histogram->record(dispatcher_.now() - attempt_started_);
  }
  if (http::UpstreamInfo* info = target_.upstream_info.get()) {
    info->status = status_;
    info->headers_time = dispatcher_.now();
  }
  // The retry has its answer: it stops counting here (Envoy's resetRetry),
  // not when the body ends, or a retried .zip would hold a retry for its
  // whole download. A 5xx that is retried again takes a new one.
  releaseRetry();
  reportOutlier(upstream::outlierResultForStatus(static_cast<uint32_t>(status_)));
  recordOutcome(status_ >= 500 ? canary::Outcome::k5xx : canary::Outcome::kSuccess);
  if (resuming_) {
    onResumeHeaders(*headers, end_stream);
    return;
  }

  if (status_ == 304 && (!target_.if_none_match.empty() || !target_.if_modified_since.empty())) {
    // Not modified: nothing more to read, and nothing to retry.
    if (!end_stream) request_->cancel();
    request_ = nullptr;
    endAttempt(stats::Stats::codeClassIndex(status_));
    state_ = State::kDone;
    // A 304 may carry newer validators (an ETag where the first answer had
    // only a date): the next revalidation uses them.
    const std::string* etag = headers->headers.get("etag");
    const std::string* last_modified = headers->headers.get("last-modified");
    sink_.onFetchValidators(etag == nullptr || absl::StartsWith(*etag, "W/") ? "" : *etag,
                            last_modified == nullptr ? "" : *last_modified);
    sink_.onFetchNotModified();
    done();
    return;
  }
  if (status_ == 200) {
    if (const std::string* length = headers->headers.get("content-length")) {
      int64_t value;
      if (absl::SimpleAtoi(*length, &value)) content_length_ = value;
    }
    if (const std::string* etag = headers->headers.get("etag")) {
      etag_weak_ = absl::StartsWith(*etag, "W/");
      if (!etag_weak_) etag_ = *etag;
    }
    if (content_length_ >= 0 &&
        static_cast<uint64_t>(content_length_) > maxBodyBytes(target_.kind)) {
      endAttempt(stats::Stats::codeClassIndex(status_));
      finishFailed(502, absl::StrCat("upstream ", cluster().name(), " answered ", content_length_,
                                     " bytes, over the limit of ", maxBodyBytes(target_.kind)));
      return;
    }
    state_ = State::kStreaming;
    const std::string* last_modified = headers->headers.get("last-modified");
    sink_.onFetchValidators(etag_weak_ ? std::string() : etag_,
                            last_modified == nullptr ? std::string() : *last_modified);
    sink_.onFetchStart(content_length_);
    if (end_stream) bodyComplete();
    return;
  }
  state_ = State::kCollectingError;
  if (end_stream) {
    request_ = nullptr;
    finishError();
  }
}

void Fetch::onResponseData(buffer::Buffer& data, bool end_stream) {
  if (state_ == State::kStreaming) {
    received_ += data.length();
    if (received_ > maxBodyBytes(target_.kind) ||
        (content_length_ >= 0 && received_ > static_cast<uint64_t>(content_length_))) {
      data.drain(data.length());
      endAttempt(2);
      finishFailed(502, absl::StrCat("upstream ", cluster().name(), " sent more than ",
                                     maxBodyBytes(target_.kind), " bytes"));
      return;
    }
    sink_.onFetchData(data);
    if (end_stream) {
      bodyComplete();
      return;
    }
    checkBackPressure();
    return;
  }
  if (state_ == State::kCollectingError) {
    size_t room = kMaxErrorBody - std::min(kMaxErrorBody, error_body_.size());
    std::string chunk = data.toString();
    error_body_.append(chunk.substr(0, room));
    data.drain(data.length());
    if (end_stream) {
      request_ = nullptr;
      finishError();
    }
    return;
  }
  data.drain(data.length());
}

void Fetch::bodyComplete() {
  request_ = nullptr;
  if (!sink_.checksBody()) {
    endAttempt(2);
    state_ = State::kDone;
    sink_.onFetchComplete(received_);
    done();
    return;
  }
  state_ = State::kVerifying;
  checked_host_ = host_;
  endAttempt(2);
  std::weak_ptr<bool> alive = alive_;
  sink_.checkBody(received_, [this, alive](BodyVerdict verdict) {
    if (alive.expired()) return;
    onVerdict(std::move(verdict));
  });
}

void Fetch::onVerdict(BodyVerdict verdict) {
  if (state_ != State::kVerifying) return;
  upstream::HostSharedPtr host = std::move(checked_host_);
  switch (verdict.kind) {
    case BodyVerdict::Kind::kAccept:
      state_ = State::kDone;
      sink_.onFetchComplete(received_);
      done();
      return;
    case BodyVerdict::Kind::kUnverifiable:
      finishFailed(502, std::move(verdict.reason));
      return;
    case BodyVerdict::Kind::kReject:
      break;
  }
  // The host served bytes that are not the module: as bad as a 502 from
  // it, for outlier detection, whatever status it sent.
  if (host != nullptr) {
    const upstream::Endpoint& endpoint = upstream::Cluster::endpoint(*host);
    if (endpoint.outlier != nullptr)
      endpoint.outlier->putResult(upstream::OutlierResult::kGatewayFailure);
  }
  recordOutcome(canary::Outcome::kUpstreamFailure);
  verdict.reason = absl::StrCat("upstream ", cluster().name(), ": ", verdict.reason);
  LOG_WARN(verdict.reason);
  last_error_ = verdict.reason;
  sink_.onFetchDiscarded();
  // A lying upstream must not hide a truthful one: the next step is asked
  // whatever its separator (',' would otherwise stop at anything but 404).
  resuming_ = false;
  etag_.clear();
  etag_weak_ = false;
  if (step_ + 1 < target_.chain.size()) {
    ++step_;
    startStep();
    return;
  }
  finishFailed(502, std::move(verdict.reason));
}

void Fetch::finishError() {
  endAttempt(stats::Stats::codeClassIndex(status_));
  const bool not_found = status_ == 404 || status_ == 410;
  if (not_found) {
    if (advance(true)) return;
    finishNotFound();
    return;
  }
  last_error_ = absl::StrCat("upstream ", cluster().name(), " answered ", status_);
  std::string reason = firstLine(error_body_);
  if (!reason.empty()) absl::StrAppend(&last_error_, ": ", reason);
  if (maybeRetry(false, false, status_)) return;
  if (advance(false)) return;
  // A 4xx other than 404/410 (403 from a gatekeeper, 429) is the upstream's
  // considered answer: pass it on. 5xx become 502: the fault is upstream.
  finishFailed(status_ >= 400 && status_ < 500 ? status_ : 502, last_error_);
}

void Fetch::finishNotFound() {
  state_ = State::kDone;
  std::string reason = firstLine(error_body_);
  if (reason.empty()) reason = "not found";
  sink_.onFetchNotFound(status_, reason);
  done();
}

void Fetch::onFailure(upstream::FailureReason reason, std::string_view detail) {
  request_ = nullptr;
  if (reason == upstream::FailureReason::kPoolOverflow && state_ == State::kAwaitingHeaders) {
    // The connection circuit breakers refused it before anything was sent:
    // a fast 503 like a max_requests overflow, not retried (nor by Envoy)
    // and not the host's fault.
    cluster().stats().rq_overflow->Increment();
    recordOutcome(canary::Outcome::kUpstreamFailure);
    endAttempt(0);
    stepFailed(503, absl::StrCat("upstream cluster ", cluster().name(),
                                 " overflow: ", std::string(detail)));
    return;
  }
  if (state_ != State::kStreaming) {
    if (auto result = upstream::outlierResultForFailure(reason)) reportOutlier(*result);
    if (state_ != State::kDone) recordOutcome(canary::Outcome::kUpstreamFailure);
  }
  endAttempt(0);
  std::string text = absl::StrCat("upstream ", cluster().name(), ": ",
                                  std::string(upstream::failureReasonName(reason)));
  if (!detail.empty()) absl::StrAppend(&text, ": ", std::string(detail));
  if (state_ == State::kStreaming) {
    // Bytes already went to the sink: only the rest of the same .zip may
    // finish them.
    if (maybeResume(reason, text)) return;
    finishFailed(502, text);
    return;
  }
  if (state_ == State::kDone) return;
  last_error_ = text;
  const bool connect_failure = reason == upstream::FailureReason::kConnectFailure ||
                               reason == upstream::FailureReason::kTlsFailure ||
                               reason == upstream::FailureReason::kDnsFailure;
  const bool reset_or_timeout =
      reason == upstream::FailureReason::kReset || reason == upstream::FailureReason::kTimeout;
  if (maybeRetry(connect_failure, reset_or_timeout, 0)) return;
  if (advance(false)) return;
  finishFailed(reason == upstream::FailureReason::kTimeout ? 504 : 502, text);
}

bool Fetch::maybeResume(upstream::FailureReason reason, const std::string& text) {
  // Zips only (immutable, large, and the go command checks their hash);
  // the total must be known to check the resumed answer against, and a
  // weak ETag says the bytes may differ.
  if (target_.kind != modgate::goproxy::RequestKind::kZip || content_length_ < 0 || etag_weak_) {
    return false;
  }
  if (reason != upstream::FailureReason::kReset && reason != upstream::FailureReason::kTimeout) {
    return false;
  }
  if (received_ >= static_cast<uint64_t>(content_length_)) return false;
  last_error_ = text;
  resuming_ = true;
  if (!maybeRetry(false, /*reset_or_timeout=*/true, 0)) return false;
  LOG_INFO("resuming ", target_.paths[step_], " at byte ", received_, " of ", content_length_,
           " after: ", text);
  return true;
}

std::string Fetch::resumeMismatch(const http::ResponseHeaders& headers) const {
  if (status_ != 206) {
    return absl::StrCat(
        "answered ", status_,
        status_ == 200 ? " with the whole file (no range support or another ETag)" : "");
  }
  const std::string* range = headers.headers.get("content-range");
  const std::string expected =
      absl::StrCat("bytes ", received_, "-", content_length_ - 1, "/", content_length_);
  if (range == nullptr || *range != expected) {
    return absl::StrCat("Content-Range ", range == nullptr ? "(none)" : *range, " instead of ",
                        expected);
  }
  if (!etag_.empty()) {
    const std::string* etag = headers.headers.get("etag");
    if (etag == nullptr || *etag != etag_) {
      return absl::StrCat("ETag ", etag == nullptr ? "(none)" : *etag, " instead of ", etag_);
    }
  }
  return "";
}

void Fetch::onResumeHeaders(const http::ResponseHeaders& headers, bool end_stream) {
  std::string mismatch = resumeMismatch(headers);
  if (mismatch.empty() && end_stream) mismatch = "no body";
  if (!mismatch.empty()) {
    endAttempt(stats::Stats::codeClassIndex(status_));
    finishFailed(502, absl::StrCat(last_error_, "; resuming at byte ", received_,
                                   " failed: ", cluster().name(), " ", mismatch));
    return;
  }
  // The rest of the same bytes: the sink goes on where it stopped.
  state_ = State::kStreaming;
}

void Fetch::finishFailed(int status, std::string reason) {
  if (state_ == State::kDone) return;
  state_ = State::kDone;
  if (request_ != nullptr) {
    request_->cancel();
    request_ = nullptr;
  }
  endAttempt(0);
  sink_.onFetchFailed(status, std::move(reason));
  done();
}

void Fetch::checkBackPressure() {
  if (request_ == nullptr || max_pending_bytes_ == 0 || state_ != State::kStreaming) {
    setReading(false);
    return;
  }
  const uint64_t own = sink_.pendingBytes();
  // The worker's total, which holds this fetch's own bytes too (max(): a
  // sink that does not count in it is bounded alone).
  const uint64_t total = backlog_ == nullptr ? own : std::max(own, backlog_->bytes());
  if (!paused_ && own > 0 && total > max_pending_bytes_) {
    paused_ = true;
    request_->readDisable(true);
    setReading(false);
    if (!resume_timer_) resume_timer_ = dispatcher_.createTimer([this] { checkBackPressure(); });
    // The others with bytes queued stop too, before their next read adds to
    // the total.
    if (backlog_ != nullptr) backlog_->overBudget(*this);
  }
  if (paused_) {
    if (own == 0 || total <= max_pending_bytes_ / 2) {
      paused_ = false;
      request_->readDisable(false);
      setReading(true);
    } else {
      // The disk queue drains on other threads; look again shortly.
      resume_timer_->enableTimer(std::chrono::milliseconds(5));
    }
    return;
  }
  setReading(true);
}

void Fetch::setReading(bool reading) {
  if (backlog_ == nullptr || reading_ == reading) return;
  reading_ = reading;
  if (reading) {
    backlog_->addReader(*this);
  } else {
    backlog_->removeReader(*this);
  }
}

void Fetch::done() {
  setReading(false);
  if (resume_timer_) resume_timer_->disableTimer();
  if (backoff_timer_) backoff_timer_->disableTimer();
  if (on_done_) {
    auto cb = std::move(on_done_);
    cb(*this);
  }
}

}  // namespace modgate::filters::goproxy
