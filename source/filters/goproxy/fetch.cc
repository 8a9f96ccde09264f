#include "source/filters/goproxy/fetch.h"

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
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

const char* failureName(upstream::FailureReason reason) {
  switch (reason) {
    case upstream::FailureReason::kConnectFailure:
      return "connect failure";
    case upstream::FailureReason::kTlsFailure:
      return "TLS failure";
    case upstream::FailureReason::kDnsFailure:
      return "DNS failure";
    case upstream::FailureReason::kReset:
      return "connection reset";
    case upstream::FailureReason::kTimeout:
      return "timeout";
    case upstream::FailureReason::kProtocolError:
      return "protocol error";
    case upstream::FailureReason::kTooManyRedirects:
      return "too many redirects";
    case upstream::FailureReason::kOverflow:
      return "overflow";
  }
  return "failure";
}
}  // namespace

Fetch::Fetch(event::Dispatcher& dispatcher, UpstreamClientProvider& clients, Target target,
             FetchSink& sink, uint64_t max_pending_bytes, stats::Stats* stats,
             std::function<void(Fetch&)> on_done)
    : dispatcher_(dispatcher),
      clients_(clients),
      stats_(stats),
      target_(std::move(target)),
      sink_(sink),
      max_pending_bytes_(max_pending_bytes),
      on_done_(std::move(on_done)) {}

Fetch::~Fetch() {
  if (request_ != nullptr) request_->cancel();
}

void Fetch::start() { tryStep(); }

std::string Fetch::describeStep() const {
  const auto& step = target_.chain[step_];
  return absl::StrCat(step.cluster->name);
}

void Fetch::tryStep() {
  const router::ChainStep& step = target_.chain[step_];
  state_ = State::kAwaitingHeaders;
  status_ = 0;
  error_body_.clear();
  received_ = 0;
  content_length_ = -1;
  http::HeaderMap extra;
  const router::Endpoint& endpoint = step.cluster->pickEndpoint();
  request_ = clients_.clientFor(endpoint).send(endpoint.url, target_.paths[step_], extra, *this,
                                               step.cluster->options);
}

bool Fetch::advance(bool not_found) {
  if (step_ + 1 >= target_.chain.size()) return false;
  const router::ChainStep& step = target_.chain[step_];
  if (!not_found && step.on != router::Fallthrough::kAnyError) return false;
  ++step_;
  request_ = nullptr;
  tryStep();
  return true;
}

void Fetch::onResponseHeaders(std::unique_ptr<http::ResponseHeaders> headers, bool end_stream) {
  status_ = headers->status;
  if (stats_ != nullptr) stats_->upstreamResponses(status_).Increment();

  if (status_ == 200) {
    if (const std::string* length = headers->headers.get("content-length")) {
      int64_t value;
      if (absl::SimpleAtoi(*length, &value)) content_length_ = value;
    }
    if (content_length_ >= 0 &&
        static_cast<uint64_t>(content_length_) > maxBodyBytes(target_.kind)) {
      finishFailed(502, absl::StrCat("upstream ", describeStep(), " answered ", content_length_,
                                     " bytes, over the limit of ", maxBodyBytes(target_.kind)));
      return;
    }
    state_ = State::kStreaming;
    sink_.onFetchStart(content_length_);
    if (end_stream) {
      request_ = nullptr;
      state_ = State::kDone;
      sink_.onFetchComplete(0);
      done();
    }
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
    if (stats_ != nullptr) stats_->upstream_bytes_received->Increment(data.length());
    if (received_ > maxBodyBytes(target_.kind) ||
        (content_length_ >= 0 && received_ > static_cast<uint64_t>(content_length_))) {
      data.drain(data.length());
      finishFailed(502, absl::StrCat("upstream ", describeStep(), " sent more than ",
                                     maxBodyBytes(target_.kind), " bytes"));
      return;
    }
    sink_.onFetchData(data);
    if (end_stream) {
      request_ = nullptr;
      state_ = State::kDone;
      sink_.onFetchComplete(received_);
      done();
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

void Fetch::finishError() {
  const bool not_found = status_ == 404 || status_ == 410;
  if (not_found) {
    if (advance(true)) return;
    finishNotFound();
    return;
  }
  last_error_ = absl::StrCat("upstream ", describeStep(), " answered ", status_);
  std::string reason = firstLine(error_body_);
  if (!reason.empty()) absl::StrAppend(&last_error_, ": ", reason);
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
  if (stats_ != nullptr) stats_->upstream_rq_failed->Increment();
  std::string text = absl::StrCat("upstream ", describeStep(), ": ", failureName(reason));
  if (!detail.empty()) absl::StrAppend(&text, ": ", std::string(detail));
  if (state_ == State::kStreaming) {
    // Bytes already went to the sink: no other upstream may finish them.
    finishFailed(502, text);
    return;
  }
  if (state_ == State::kDone) return;
  last_error_ = text;
  if (advance(false)) return;
  finishFailed(reason == upstream::FailureReason::kTimeout ? 504 : 502, text);
}

void Fetch::finishFailed(int status, std::string reason) {
  if (state_ == State::kDone) return;
  state_ = State::kDone;
  if (request_ != nullptr) {
    request_->cancel();
    request_ = nullptr;
  }
  sink_.onFetchFailed(status, std::move(reason));
  done();
}

void Fetch::checkBackPressure() {
  if (request_ == nullptr || max_pending_bytes_ == 0) return;
  if (!paused_ && sink_.pendingBytes() > max_pending_bytes_) {
    paused_ = true;
    request_->readDisable(true);
    if (!resume_timer_) resume_timer_ = dispatcher_.createTimer([this] { checkBackPressure(); });
  }
  if (paused_) {
    if (sink_.pendingBytes() <= max_pending_bytes_ / 2) {
      paused_ = false;
      request_->readDisable(false);
    } else {
      // The disk queue drains on other threads; look again shortly.
      resume_timer_->enableTimer(std::chrono::milliseconds(5));
    }
  }
}

void Fetch::done() {
  if (resume_timer_) resume_timer_->disableTimer();
  if (on_done_) {
    auto cb = std::move(on_done_);
    cb(*this);
  }
}

}  // namespace modgate::filters::goproxy
