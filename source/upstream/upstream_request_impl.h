#pragma once

#include <memory>
#include <optional>
#include <string>
#include <utility>

#include "source/common/event/dispatcher.h"
#include "source/common/http/header_map.h"
#include "source/upstream/client_connection.h"
#include "source/upstream/connector.h"
#include "source/upstream/http_client.h"
#include "source/upstream/origin.h"
#include "source/upstream/pool_waiter.h"
#include "source/upstream/redirect.h"

namespace modgate::upstream {

class ConnectionPool;
class HttpClientImpl;

// One logical request: picks or opens a connection (an HTTP/1.1 connection
// or a stream on an HTTP/2 one), sends, follows redirects, enforces the
// timeouts, retries once on a fresh connection when a pooled one turns out
// stale, retries requests an HTTP/2 origin refused unprocessed, and streams
// the final response to the caller.
class UpstreamRequestImpl : public UpstreamRequest,
                            public event::DeferredDeletable,
                            private ResponseDecoder,
                            private ConnectCallbacks,
                            private PoolWaiter {
 public:
  UpstreamRequestImpl(HttpClientImpl& client, Origin origin, std::string target,
                      const http::HeaderMap& extra_headers, ResponseCallbacks& callbacks,
                      const RequestOptions& options);
  // Silent: no callbacks; an in-flight connection is closed.
  ~UpstreamRequestImpl() override;

  // Runs the request from the next loop iteration (never inside send()).
  void start();

  // UpstreamRequest
  void cancel() override;
  void readDisable(bool disable) override;

 private:
  enum class State { kIdle, kConnecting, kAwaitingHeaders, kRedirectBody, kBody, kDone };

  // ResponseDecoder
  void decodeHeaders(std::unique_ptr<http::ResponseHeaders> headers, bool end_stream) override;
  void decodeData(buffer::Buffer& data, bool end_stream) override;
  void onStreamFailure(FailureReason reason, std::string_view detail,
                       bool response_started) override;
  void onStreamRefused(std::string_view detail) override;

  // PoolWaiter
  void onPoolReady() override;
  void onPoolFailure(FailureReason reason, std::string_view detail) override;
  void onPoolConnection(ClientConnectionPtr connection) override;

  // ConnectCallbacks
  void onConnected(network::ConnectionPtr connection) override;
  void onConnectFailure(FailureReason reason, std::string_view detail) override;

  void beginHop();
  // Connection circuit breakers are full: become (or stay) a pending request.
  void waitForConnection(ConnectionPool& pool);
  // No longer a pending request (it got or is opening a connection).
  void leavePending();
  void onWake();
  void sendOn(ClientConnectionPtr connection, bool reused);
  void followRedirect();
  void releaseConnection();
  void dropConnection();
  void dropConnector();
  // Leaves the pool's waiters / pending connects (on any way out).
  void leavePool();
  // Terminal paths: mark done, stop timers, tell the client to free us.
  void finish();
  void fail(FailureReason reason, std::string_view detail);
  void onResponseTimeout();
  void onIdleTimeout();

  HttpClientImpl& client_;
  event::Dispatcher& dispatcher_;
  Origin origin_;
  std::string target_;
  // RequestOptions::authority while the request stays on its first origin.
  std::string authority_;
  http::HeaderMap extra_headers_;
  ResponseCallbacks& callbacks_;
  const RequestOptions options_;
  State state_ = State::kIdle;
  int redirects_ = 0;
  bool reused_ = false;   // the current hop runs on a pooled connection
  bool retried_ = false;  // the current hop already retried once
  bool user_read_disabled_ = false;
  // Refusals (HTTP/2 GOAWAY / REFUSED_STREAM) retried in this request: an
  // origin that refuses everything must not make us loop forever.
  int refusals_ = 0;
  static constexpr int kMaxRefusals = 10;
  std::unique_ptr<Connector> connector_;
  // The pool counting our connect attempt / holding us as a waiter.
  ConnectionPool* connect_pool_ = nullptr;
  ConnectionPool* wait_pool_ = nullptr;
  // Set by onPoolFailure, acted on from wake_timer_.
  std::optional<std::pair<FailureReason, std::string>> pool_failure_;
  // Set by onPoolConnection, used from wake_timer_.
  ClientConnectionPtr handed_connection_;
  // The slot under the connection limits of the connection being opened
  // (it moves to the connection once established).
  ResourceHandlePtr connect_slot_;
  // Held while this is a pending request (max_pending_requests).
  ResourceHandlePtr pending_;
  ClientConnectionPtr connection_;
  std::optional<RedirectTarget> pending_redirect_;
  event::TimerPtr start_timer_;
  event::TimerPtr wake_timer_;  // a pool wait ended
  event::TimerPtr response_timer_;
  event::TimerPtr idle_timer_;
};

}  // namespace modgate::upstream
