#include "source/upstream/upstream_request_impl.h"

#include "absl/strings/str_cat.h"
#include "source/upstream/connection_pool.h"
#include "source/upstream/deferred_delete.h"
#include "source/upstream/http1_client_connection.h"
#include "source/upstream/http2_client_connection.h"
#include "source/upstream/http_client_impl.h"
#include "source/upstream/string_view_compat.h"

namespace modgate::upstream {
namespace {

bool validHeaderName(std::string_view name) {
  if (name.empty()) return false;
  for (char c : name) {
    if (!(std::islower(static_cast<unsigned char>(c)) ||
          std::isdigit(static_cast<unsigned char>(c)) ||
          std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos)) {
      return false;
    }
  }
  return true;
}

bool validHeaderValue(std::string_view value) {
  for (char c : value) {
    if (c == '\r' || c == '\n' || c == '\0') return false;
  }
  return true;
}

bool validTarget(std::string_view target) {
  if (target.empty() || target.front() != '/') return false;
  for (char c : target) {
    unsigned char u = static_cast<unsigned char>(c);
    if (u <= 0x20 || u == 0x7f) return false;
  }
  return true;
}

}  // namespace

UpstreamRequestImpl::UpstreamRequestImpl(HttpClientImpl& client, Origin origin, std::string target,
                                         const http::HeaderMap& extra_headers,
                                         ResponseCallbacks& callbacks,
                                         const RequestOptions& options)
    : client_(client),
      dispatcher_(client.dispatcher()),
      origin_(std::move(origin)),
      target_(std::move(target)),
      authority_(options.authority),
      extra_headers_(extra_headers),
      callbacks_(callbacks),
      options_(options) {
  start_timer_ = dispatcher_.createTimer([this] {
    if (state_ != State::kIdle) return;
    if (!validTarget(target_)) {
      fail(FailureReason::kProtocolError, "request path must start with '/' and have no spaces");
      return;
    }
    if (options_.method != "GET" && options_.method != "HEAD") {
      fail(FailureReason::kProtocolError, "only GET and HEAD are supported");
      return;
    }
    if (!authority_.empty() &&
        (!validHeaderValue(authority_) || authority_.find_first_of(" \t/") != std::string::npos)) {
      fail(FailureReason::kProtocolError, "invalid authority " + authority_);
      return;
    }
    for (const auto& entry : extra_headers_.entries()) {
      if (!validHeaderName(entry.name) || !validHeaderValue(entry.value)) {
        fail(FailureReason::kProtocolError, "invalid request header " + entry.name);
        return;
      }
    }
    beginHop();
  });
  wake_timer_ = dispatcher_.createTimer([this] { onWake(); });
  response_timer_ = dispatcher_.createTimer([this] { onResponseTimeout(); });
  idle_timer_ = dispatcher_.createTimer([this] { onIdleTimeout(); });
}

void UpstreamRequestImpl::onWake() {
  if (state_ != State::kConnecting || wait_pool_ != nullptr || connector_ != nullptr ||
      connection_ != nullptr) {
    return;
  }
  if (pool_failure_.has_value()) {
    auto [reason, detail] = std::move(*pool_failure_);
    pool_failure_.reset();
    fail(reason, detail);
    return;
  }
  if (handed_connection_ != nullptr) {
    ClientConnectionPtr handed = std::move(handed_connection_);
    if (handed->isOpen() && handed->reusable()) {
      leavePending();
      sendOn(std::move(handed), true);
      return;
    }
    // Closed meanwhile (its slot is free now): try again below.
    client_.pool(origin_).release(std::move(handed));
  }
  beginHop();
}

UpstreamRequestImpl::~UpstreamRequestImpl() {
  leavePool();
  if (connector_ != nullptr) connector_->cancel();
  if (connection_ != nullptr) {
    connection_->setCloseCallback(nullptr);
    connection_->resetStream();
  }
}

void UpstreamRequestImpl::start() { start_timer_->enableTimer(std::chrono::milliseconds(0)); }

void UpstreamRequestImpl::beginHop() {
  state_ = State::kConnecting;
  ConnectionPool& pool = client_.pool(origin_);
  // After a stale idle HTTP/1.1 connection, others idle as long may be
  // stale too; a live HTTP/2 connection with room is fine.
  ClientConnectionPtr pooled = pool.acquire(/*idle_http1=*/!retried_);
  if (pooled != nullptr) {
    leavePending();
    sendOn(std::move(pooled), true);
    return;
  }
  if (pool.canWait()) {
    // Someone is opening what may be an HTTP/2 connection: share it.
    wait_pool_ = &pool;
    pool.wait(*this);
    return;
  }
  if (options_.limits.limitsConnections()) {
    connect_slot_ = pool.connectionSlot(options_.limits);
    if (connect_slot_ == nullptr) {
      waitForConnection(pool);
      return;
    }
  }
  leavePending();
  connector_ = client_.newConnector(origin_, options_.connect_timeout, *this);
  connect_pool_ = &pool;
  pool.connectStarted();
  // May fail at once (and so finish this request) before returning.
  connector_->start();
}

void UpstreamRequestImpl::waitForConnection(ConnectionPool& pool) {
  const bool woken_before = pending_ != nullptr;
  if (!woken_before) {
    pending_ = tryAcquireBoth(options_.limits.pending_requests, nullptr);
    if (pending_ == nullptr) {
      fail(FailureReason::kPoolOverflow,
           absl::StrCat("no connection to ", origin_.key(),
                        " under the connection limits, and max_pending_requests (",
                        options_.limits.pending_requests->max(), ") requests already wait"));
      return;
    }
    // The wait for a free connection counts against the response timeout.
    response_timer_->enableTimer(options_.response_timeout);
  }
  wait_pool_ = &pool;
  pool.waitForConnection(*this, woken_before);
}

void UpstreamRequestImpl::leavePending() {
  if (pending_ == nullptr) return;
  pending_.reset();
  // It bounded the wait; the exchange (sendOn) starts its own.
  response_timer_->disableTimer();
}

void UpstreamRequestImpl::onConnected(network::ConnectionPtr connection) {
  ConnectionPool* pool = connect_pool_;
  connect_pool_ = nullptr;
  // The slot goes with the connection (dropConnector would release it).
  ResourceHandlePtr slot = std::move(connect_slot_);
  dropConnector();
  client_.noteConnectionOpened();
  if (client_.speaksHttp2(origin_, *connection)) {
    auto http2 = std::make_unique<Http2ClientConnection>(std::move(connection), origin_.scheme,
                                                         client_.poolIdleTimeout());
    http2->adoptSlot(std::move(slot));
    ClientConnectionPtr stream = pool->addHttp2(std::move(http2));
    // The waiters take their streams after ours (their wake-ups are timers).
    pool->connectSucceeded(true);
    if (stream == nullptr) {
      fail(FailureReason::kProtocolError, "cannot start HTTP/2 session");
      return;
    }
    sendOn(std::move(stream), false);
    return;
  }
  pool->connectSucceeded(false);
  auto http1 = std::make_unique<Http1ClientConnection>(std::move(connection));
  http1->adoptSlot(std::move(slot));
  sendOn(std::move(http1), false);
}

void UpstreamRequestImpl::onConnectFailure(FailureReason reason, std::string_view detail) {
  ConnectionPool* pool = connect_pool_;
  connect_pool_ = nullptr;
  dropConnector();
  if (pool != nullptr) pool->connectFailed(reason, detail);
  fail(reason, detail);
}

void UpstreamRequestImpl::onPoolReady() {
  wait_pool_ = nullptr;
  wake_timer_->enableTimer(std::chrono::milliseconds(0));
}

void UpstreamRequestImpl::onPoolConnection(ClientConnectionPtr connection) {
  wait_pool_ = nullptr;
  handed_connection_ = std::move(connection);
  wake_timer_->enableTimer(std::chrono::milliseconds(0));
}

void UpstreamRequestImpl::onPoolFailure(FailureReason reason, std::string_view detail) {
  wait_pool_ = nullptr;
  pool_failure_.emplace(reason, std::string(detail));
  wake_timer_->enableTimer(std::chrono::milliseconds(0));
}

void UpstreamRequestImpl::leavePool() {
  if (wait_pool_ != nullptr) {
    wait_pool_->cancelWait(*this);
    wait_pool_ = nullptr;
  }
  if (connect_pool_ != nullptr) {
    ConnectionPool* pool = connect_pool_;
    connect_pool_ = nullptr;
    pool->connectAbandoned();
  }
  pending_.reset();
  // A connection handed to us that we did not use goes to the next waiter.
  if (handed_connection_ != nullptr) client_.pool(origin_).release(std::move(handed_connection_));
}

void UpstreamRequestImpl::sendOn(ClientConnectionPtr connection, bool reused) {
  reused_ = reused;
  connection_ = std::move(connection);
  state_ = State::kAwaitingHeaders;
  response_timer_->enableTimer(options_.response_timeout);
  RequestHead head;
  head.method = options_.method;
  head.target = target_;
  head.authority = authority_.empty() ? origin_.authority() : authority_;
  head.extra_headers = &extra_headers_;
  connection_->sendRequest(head, *this);
}

void UpstreamRequestImpl::decodeHeaders(std::unique_ptr<http::ResponseHeaders> headers,
                                        bool end_stream) {
  response_timer_->disableTimer();
  const std::string* location = headers->headers.get("location");
  if (isRedirectStatus(headers->status) && location != nullptr) {
    if (redirects_ >= options_.max_redirects) {
      fail(FailureReason::kTooManyRedirects, absl::StrCat("more than ", options_.max_redirects,
                                                          " redirects (last to ", *location, ")"));
      return;
    }
    absl::StatusOr<RedirectTarget> next = resolveRedirect(origin_, target_, *location);
    if (!next.ok()) {
      fail(FailureReason::kProtocolError, absl::StrCat("bad redirect: ", next.status().message()));
      return;
    }
    if (origin_.tls() && !next->origin.tls()) {
      fail(FailureReason::kProtocolError,
           absl::StrCat("refusing redirect from https to http: ", *location));
      return;
    }
    ++redirects_;
    pending_redirect_ = std::move(*next);
    if (end_stream) {
      followRedirect();
      return;
    }
    // The redirect's body is read and dropped, keeping the connection.
    state_ = State::kRedirectBody;
    idle_timer_->enableTimer(options_.idle_timeout);
    return;
  }

  if (end_stream) {
    finish();
    releaseConnection();
    callbacks_.onResponseHeaders(std::move(headers), true);
    client_.requestDone(this);
    return;
  }
  state_ = State::kBody;
  idle_timer_->enableTimer(options_.idle_timeout);
  callbacks_.onResponseHeaders(std::move(headers), false);
  // The caller may have asked for back-pressure before or during the call.
  if (state_ == State::kBody && user_read_disabled_ && connection_ != nullptr) {
    connection_->readDisable(true);
    idle_timer_->disableTimer();
  }
}

void UpstreamRequestImpl::decodeData(buffer::Buffer& data, bool end_stream) {
  if (state_ == State::kRedirectBody) {
    data.drain(data.length());
    if (end_stream) {
      followRedirect();
    } else {
      idle_timer_->enableTimer(options_.idle_timeout);
    }
    return;
  }
  if (state_ != State::kBody) return;
  if (end_stream) {
    finish();
    releaseConnection();
    callbacks_.onResponseData(data, true);
    client_.requestDone(this);
    return;
  }
  if (!user_read_disabled_) idle_timer_->enableTimer(options_.idle_timeout);
  callbacks_.onResponseData(data, false);
}

void UpstreamRequestImpl::onStreamFailure(FailureReason reason, std::string_view detail,
                                          bool response_started) {
  dropConnection();
  if (state_ == State::kAwaitingHeaders && reused_ && !retried_ && !response_started) {
    // The pooled connection was stale (closed by the origin while idle).
    // Safe to repeat: GET/HEAD, and nothing of a response arrived.
    retried_ = true;
    response_timer_->disableTimer();
    beginHop();
    return;
  }
  fail(reason, absl::StrCat(toAbsl(detail), " (", origin_.key(), ")"));
}

void UpstreamRequestImpl::onStreamRefused(std::string_view detail) {
  dropConnection();
  if (state_ == State::kAwaitingHeaders && refusals_ < kMaxRefusals) {
    // The origin guarantees it did not act on the request (HTTP/2 GOAWAY
    // past our stream, or REFUSED_STREAM): send it again, on another
    // connection if this one is going away.
    ++refusals_;
    response_timer_->disableTimer();
    beginHop();
    return;
  }
  fail(FailureReason::kReset, absl::StrCat(toAbsl(detail), " (", origin_.key(), ")"));
}

void UpstreamRequestImpl::followRedirect() {
  releaseConnection();
  idle_timer_->disableTimer();
  RedirectTarget next = std::move(*pending_redirect_);
  pending_redirect_.reset();
  if (!(next.origin == origin_)) {
    // Credentials (and a virtual host name) are for the origin they were
    // given for.
    extra_headers_.remove("authorization");
    authority_.clear();
  }
  origin_ = std::move(next.origin);
  target_ = std::move(next.target);
  retried_ = false;
  beginHop();
}

void UpstreamRequestImpl::cancel() {
  if (state_ == State::kDone) return;
  finish();
  dropConnector();
  dropConnection();
  client_.requestDone(this);
}

void UpstreamRequestImpl::readDisable(bool disable) {
  if (state_ == State::kDone || user_read_disabled_ == disable) return;
  user_read_disabled_ = disable;
  if (state_ != State::kBody || connection_ == nullptr) return;
  connection_->readDisable(disable);
  if (disable) {
    idle_timer_->disableTimer();
  } else {
    idle_timer_->enableTimer(options_.idle_timeout);
  }
}

void UpstreamRequestImpl::onResponseTimeout() {
  if (state_ == State::kConnecting && pending_ != nullptr) {
    fail(FailureReason::kPoolOverflow,
         absl::StrCat("no connection to ", origin_.key(),
                      " came free under the connection limits within ",
                      options_.response_timeout.count(), " ms"));
    return;
  }
  fail(FailureReason::kTimeout, absl::StrCat("no response headers from ", origin_.key(), " within ",
                                             options_.response_timeout.count(), " ms"));
}

void UpstreamRequestImpl::onIdleTimeout() {
  fail(FailureReason::kTimeout, absl::StrCat("no response body bytes from ", origin_.key(), " for ",
                                             options_.idle_timeout.count(), " ms"));
}

void UpstreamRequestImpl::releaseConnection() {
  if (connection_ == nullptr) return;
  client_.pool(origin_).release(std::move(connection_));
}

void UpstreamRequestImpl::dropConnection() {
  if (connection_ == nullptr) return;
  connection_->setCloseCallback(nullptr);
  if (connection_->isOpen()) connection_->resetStream();
  deferDelete(dispatcher_, std::move(connection_));
}

void UpstreamRequestImpl::dropConnector() {
  if (connect_pool_ != nullptr) {
    ConnectionPool* pool = connect_pool_;
    connect_pool_ = nullptr;
    pool->connectAbandoned();
  }
  // Released after the connector is gone, so that a waiter woken by it
  // finds the slot free.
  if (connector_ != nullptr) {
    connector_->cancel();
    deferDelete(dispatcher_, std::move(connector_));
  }
  connect_slot_.reset();
}

void UpstreamRequestImpl::finish() {
  state_ = State::kDone;
  leavePool();
  start_timer_->disableTimer();
  wake_timer_->disableTimer();
  response_timer_->disableTimer();
  idle_timer_->disableTimer();
}

void UpstreamRequestImpl::fail(FailureReason reason, std::string_view detail) {
  if (state_ == State::kDone) return;
  finish();
  dropConnector();
  dropConnection();
  callbacks_.onFailure(reason, detail);
  client_.requestDone(this);
}

}  // namespace modgate::upstream
