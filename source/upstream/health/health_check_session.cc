#include "source/upstream/health/health_check_session.h"

#include "absl/strings/str_cat.h"
#include "source/upstream/health/health_check_interval.h"

namespace modgate::upstream {

HealthCheckSession::HealthCheckSession(event::Dispatcher& dispatcher, Owner& owner,
                                       HealthCheckEndpoint endpoint)
    : dispatcher_(dispatcher), owner_(owner), endpoint_(std::move(endpoint)) {
  status_.host = endpoint_.host;
  status_.healthy = owner_.options().hosts_start_healthy;
  interval_timer_ = dispatcher_.createTimer([this] { probe(); });
  timeout_timer_ = dispatcher_.createTimer([this] { onTimeout(); });
}

HealthCheckSession::~HealthCheckSession() { stop(); }

void HealthCheckSession::start() {
  stop();
  interval_timer_->enableTimer(initialProbeDelay(owner_.options(), owner_.random()));
}

void HealthCheckSession::stop() {
  interval_timer_->disableTimer();
  timeout_timer_->disableTimer();
  if (request_ != nullptr) {
    UpstreamRequest* request = request_;
    request_ = nullptr;
    request->cancel();
  }
}

void HealthCheckSession::setEndpoint(HealthCheckEndpoint endpoint) {
  endpoint_ = std::move(endpoint);
}

void HealthCheckSession::probe() {
  const HealthCheckOptions& options = owner_.options();
  const std::string& path =
      endpoint_.path_override.empty() ? options.path : endpoint_.path_override;
  RequestOptions request_options;
  // The client's own timeouts only back up ours, which covers the whole
  // probe as Envoy's does.
  request_options.connect_timeout = options.timeout;
  request_options.response_timeout = options.timeout;
  request_options.idle_timeout = options.timeout;
  // A health endpoint is judged by its own answer, as in Envoy: redirects
  // are not followed (the client then fails the probe).
  request_options.max_redirects = 0;
  request_options.authority = options.host;
  http::HeaderMap headers;
  response_status_ = 0;
  timeout_timer_->enableTimer(options.timeout);
  // Callbacks never run inside send(), so request_ is set before any can.
  request_ =
      owner_.clientFor(*endpoint_.host).send(endpoint_.url, path, headers, *this, request_options);
}

void HealthCheckSession::onTimeout() {
  if (request_ != nullptr) {
    UpstreamRequest* request = request_;
    request_ = nullptr;
    request->cancel();
  }
  finish(false, "timeout");
}

void HealthCheckSession::onResponseHeaders(std::unique_ptr<http::ResponseHeaders> headers,
                                           bool end_stream) {
  response_status_ = headers->status;
  if (end_stream) {
    request_ = nullptr;
    finish(isExpectedStatus(owner_.options().expected_statuses, response_status_),
           absl::StrCat("status ", response_status_));
  }
}

void HealthCheckSession::onResponseData(buffer::Buffer& data, bool end_stream) {
  // The body is read to its end (and dropped) so that the connection goes
  // back to the pool; the verdict waits for the whole response, as Envoy's.
  data.drain(data.length());
  if (end_stream) {
    request_ = nullptr;
    finish(isExpectedStatus(owner_.options().expected_statuses, response_status_),
           absl::StrCat("status ", response_status_));
  }
}

void HealthCheckSession::onFailure(FailureReason reason, std::string_view detail) {
  request_ = nullptr;
  finish(false, std::string(failureReasonName(reason)));
}

void HealthCheckSession::finish(bool success, std::string failure) {
  timeout_timer_->disableTimer();
  const HealthCheckOptions& options = owner_.options();
  HostHealthStatus& s = status_;
  bool first = s.pending_first_probe;
  s.pending_first_probe = false;
  ++s.probes_total;
  s.last_status = response_status_;
  s.last_probe_time = dispatcher_.now();
  bool changed = false;
  if (success) {
    s.last_failure.clear();
    ++s.consecutive_successes;
    s.consecutive_failures = 0;
    // A host that never passed is let in by its first pass (Envoy: faster
    // startup); afterwards healthy_threshold applies.
    if (!s.healthy && (first || s.consecutive_successes >= options.healthy_threshold)) {
      s.healthy = true;
      changed = true;
    }
  } else {
    s.last_failure = std::move(failure);
    ++s.probes_failed;
    ++s.consecutive_failures;
    s.consecutive_successes = 0;
    // Every kind of failure (a status outside expected_statuses, a timeout,
    // a connection error) counts towards the threshold: modgate has no
    // retriable_statuses, so unlike Envoy's HTTP checker an unexpected
    // status does not eject at once.
    if (s.healthy && s.consecutive_failures >= options.unhealthy_threshold) {
      s.healthy = false;
      changed = true;
    }
  }
  ProbeOutcome outcome{s.healthy, changed, owner_.hasTraffic()};
  interval_timer_->enableTimer(nextProbeDelay(options, outcome, owner_.random()));
  owner_.onProbeDone(*this, changed);
}

}  // namespace modgate::upstream
