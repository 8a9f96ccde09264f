#pragma once

#include <memory>
#include <optional>
#include <string>

#include "source/common/event/dispatcher.h"
#include "source/common/http/header_map.h"
#include "source/upstream/client_connection.h"
#include "source/upstream/connector.h"
#include "source/upstream/http_client.h"
#include "source/upstream/origin.h"
#include "source/upstream/redirect.h"

namespace modgate::upstream {

class HttpClientImpl;

// One logical request: picks or opens a connection, sends, follows
// redirects, enforces the timeouts, retries once on a fresh connection when
// a pooled one turns out stale, and streams the final response to the
// caller.
class UpstreamRequestImpl : public UpstreamRequest,
                            public event::DeferredDeletable,
                            private ResponseDecoder,
                            private ConnectCallbacks {
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

  // ConnectCallbacks
  void onConnected(network::ConnectionPtr connection) override;
  void onConnectFailure(FailureReason reason, std::string_view detail) override;

  void beginHop();
  void sendOn(ClientConnectionPtr connection, bool reused);
  void followRedirect();
  void releaseConnection();
  void dropConnection();
  void dropConnector();
  // Terminal paths: mark done, stop timers, tell the client to free us.
  void finish();
  void fail(FailureReason reason, std::string_view detail);
  void onResponseTimeout();
  void onIdleTimeout();

  HttpClientImpl& client_;
  event::Dispatcher& dispatcher_;
  Origin origin_;
  std::string target_;
  http::HeaderMap extra_headers_;
  ResponseCallbacks& callbacks_;
  const RequestOptions options_;
  State state_ = State::kIdle;
  int redirects_ = 0;
  bool reused_ = false;   // the current hop runs on a pooled connection
  bool retried_ = false;  // the current hop already retried once
  bool user_read_disabled_ = false;
  std::unique_ptr<Connector> connector_;
  ClientConnectionPtr connection_;
  std::optional<RedirectTarget> pending_redirect_;
  event::TimerPtr start_timer_;
  event::TimerPtr response_timer_;
  event::TimerPtr idle_timer_;
};

}  // namespace modgate::upstream
