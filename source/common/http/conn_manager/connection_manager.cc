#include "source/common/http/conn_manager/connection_manager.h"

#include <algorithm>
#include <cstring>

#include "source/common/common/logger.h"
#include "source/common/http/conn_manager/active_stream.h"
#include "source/common/http/http1/server_connection.h"
#include "source/common/http/http2/server_connection.h"

namespace modgate::http {
namespace {
// RFC 9113 3.4: an HTTP/2 client with prior knowledge starts with this.
constexpr std::string_view kHttp2Preface = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";
}  // namespace

ConnectionManager::ConnectionManager(network::ConnectionPtr connection, FilterChainFactory& filters,
                                     const ConnectionManagerSettings& settings, ClosedCb on_closed)
    : connection_(std::move(connection)),
      filters_(filters),
      settings_(settings),
      on_closed_(std::move(on_closed)) {
  connection_->setCallbacks(*this);
  idle_timer_ = connection_->dispatcher().createTimer([this] { onIdleTimeout(); });
  resetIdleTimer();
}

ConnectionManager::~ConnectionManager() {
  // Streams reference the codec; they are gone before the codec is.
  for (ActiveStream* stream : streams_) delete stream;
  streams_.clear();
  if (protocol_counts_ != nullptr)
    protocol_counts_->cx_active.fetch_sub(1, std::memory_order_relaxed);
}

void ConnectionManager::countProtocol(bool http2) {
  if (settings_.protocol_counters == nullptr) return;
  if (protocol_counts_ != nullptr)
    protocol_counts_->cx_active.fetch_sub(1, std::memory_order_relaxed);
  const bool tls = connection_->tlsInfo() != nullptr;
  protocol_counts_ = &settings_.protocol_counters->by_protocol[ProtocolCounters::index(http2, tls)];
  protocol_counts_->cx_total.fetch_add(1, std::memory_order_relaxed);
  protocol_counts_->cx_active.fetch_add(1, std::memory_order_relaxed);
}

void ConnectionManager::createCodec(buffer::Buffer& data) {
  size_t n = std::min(data.length(), kHttp2Preface.size());
  char head[24];
  data.copyOut(head, n);
  if (std::string_view(head, n) == kHttp2Preface.substr(0, n)) {
    if (n < kHttp2Preface.size()) return;  // wait for the whole preface
    auto codec =
        std::make_unique<http2::ServerConnectionImpl>(*connection_, *this, settings_.codec);
    auto* raw = codec.get();
    codec_connection_closed_ = [raw] { raw->onConnectionClosed(); };
    codec_ = std::move(codec);
    countProtocol(/*http2=*/true);
    return;
  }
  auto codec = std::make_unique<http1::ServerConnectionImpl>(*connection_, *this, settings_.codec);
  auto* raw = codec.get();
  codec_connection_closed_ = [raw] { raw->onConnectionClosed(); };
  codec_ = std::move(codec);
  countProtocol(/*http2=*/false);
}

void ConnectionManager::onData(buffer::Buffer& data) {
  if (closed_) {
    data.drain(data.length());
    return;
  }
  if (pending_upgrade_request_ != nullptr) {
    finishUpgrade(data);
    return;
  }
  if (codec_ == nullptr) {
    createCodec(data);
    if (codec_ == nullptr) return;
  }
  if (streams_.empty() && !awaiting_headers_ && codec_->protocol() == Protocol::kHttp11) {
    awaiting_headers_ = true;
    idle_timer_->enableTimer(settings_.request_headers_timeout);
  } else if (codec_->protocol() == Protocol::kHttp2) {
    resetIdleTimer();
  }
  absl::Status status = codec_->dispatch(data);
  // closed, or an h2c upgrade retired the codec and waits for the preface.
  if (closed_ || codec_ == nullptr) return;
  if (!status.ok()) {
    closeForProtocolError(status);
    return;
  }
  if (streams_.empty() && codec_->wantsToClose()) {
    closeConnection(network::CloseType::kFlushWrite);
  }
}

void ConnectionManager::onUpgradeToH2c(std::unique_ptr<RequestHeaders> request,
                                       std::string http2_settings, buffer::Buffer& rest) {
  // The HTTP/1.1 codec is still on the stack: keep it alive until we go.
  retired_codec_ = std::move(codec_);
  codec_connection_closed_ = nullptr;
  pending_upgrade_request_ = std::move(request);
  pending_upgrade_settings_ = std::move(http2_settings);
  // Answer stream 1 only once the client's preface is in: clients such as
  // curl keep only a small buffer for bytes that follow the 101, and a
  // response (a cached zip) sent right behind it would overflow it.
  if (rest.length() > 0) finishUpgrade(rest);
}

void ConnectionManager::finishUpgrade(buffer::Buffer& data) {
  // Before the codec: it opens stream 1 (the upgraded request) at once.
  countProtocol(/*http2=*/true);
  auto codec = http2::ServerConnectionImpl::createUpgraded(*connection_, *this, settings_.codec,
                                                           pending_upgrade_settings_,
                                                           std::move(pending_upgrade_request_));
  pending_upgrade_request_.reset();
  if (codec == nullptr) {
    // Malformed HTTP2-Settings: the client was promised h2 and cannot get it.
    closeConnection(network::CloseType::kNoFlush);
    return;
  }
  auto* raw = codec.get();
  codec_connection_closed_ = [raw] { raw->onConnectionClosed(); };
  codec_ = std::move(codec);
  if (data.length() > 0 && !closed_) {
    if (absl::Status status = codec_->dispatch(data); !status.ok()) closeForProtocolError(status);
  }
}

void ConnectionManager::closeForProtocolError(const absl::Status& status) {
  if (protocol_counts_ != nullptr) {
    protocol_counts_->cx_protocol_error.fetch_add(1, std::memory_order_relaxed);
  }
  // Debug only: one line per connection is what a flood would cost the log.
  LOG_DEBUG("closed the connection from ", connection_->remoteAddress(), ": ", status.message());
  closeConnection(network::CloseType::kFlushWrite);
}

RequestDecoder& ConnectionManager::newStream(ResponseEncoder& encoder) {
  std::vector<StreamFilterPtr> chain;
  filters_.createFilterChain(chain);
  auto* stream = new ActiveStream(*this, encoder, std::move(chain));
  streams_.push_back(stream);
  awaiting_headers_ = false;
  idle_timer_->disableTimer();
  return *stream;
}

void ConnectionManager::onStreamDone(ActiveStream& stream) {
  if (auto it = std::find(streams_.begin(), streams_.end(), &stream); it != streams_.end()) {
    streams_.erase(it);
  }
  dispatcher().deferredDelete(event::DeferredDeletablePtr(&stream));
  if (!streams_.empty() || closed_) return;
  // A finished response may still be on its way (an HTTP/1.1 body handed
  // to sendfile() at once): the watchdog, not the idle timer, bounds that.
  if (connection_->bufferedWriteBytes() > 0) armSendWatchdog();
  if (draining_ || (codec_ != nullptr && codec_->wantsToClose())) {
    closeConnection(network::CloseType::kFlushWrite);
  } else {
    resetIdleTimer();
  }
}

void ConnectionManager::onEvent(network::ConnectionEvent event) {
  if (event == network::ConnectionEvent::kConnected || closed_) return;
  closed_ = true;
  idle_timer_->disableTimer();
  if (send_timer_) send_timer_->disableTimer();
  if (drain_timer_) drain_timer_->disableTimer();
  if (codec_connection_closed_) codec_connection_closed_();
  // Anything the codec did not know about (it should know all).
  while (!streams_.empty()) streams_.front()->resetFromConnection();
  on_closed_(*this);
}

void ConnectionManager::onAboveWriteBufferHighWatermark() {
  armSendWatchdog();
  if (codec_ != nullptr) codec_->onUnderlyingConnectionAboveWriteBufferHighWatermark();
}

void ConnectionManager::onBelowWriteBufferLowWatermark() {
  if (codec_ != nullptr) codec_->onUnderlyingConnectionBelowWriteBufferLowWatermark();
}

void ConnectionManager::drain() { drain(settings_.drain_timeout); }

void ConnectionManager::drain(std::chrono::milliseconds timeout) {
  if (closed_ || draining_) return;
  draining_ = true;
  if (codec_ != nullptr) codec_->shutdownNotice();
  if (streams_.empty()) {
    closeConnection(network::CloseType::kFlushWrite);
    return;
  }
  drain_timer_ =
      dispatcher().createTimer([this] { closeConnection(network::CloseType::kNoFlush); });
  drain_timer_->enableTimer(timeout);
}

void ConnectionManager::closeConnection(network::CloseType type) {
  if (closed_) return;
  // kLocalClose arrives through onEvent(), which finishes the cleanup.
  connection_->close(type);
}

void ConnectionManager::resetIdleTimer() {
  awaiting_headers_ = false;
  if (streams_.empty() && !closed_) idle_timer_->enableTimer(settings_.idle_timeout);
}

void ConnectionManager::onIdleTimeout() {
  if (!streams_.empty()) return;
  if (connection_->bufferedWriteBytes() > 0 && send_timer_ && send_timer_->enabled()) {
    // Still sending a finished response: idle only once it is out (the
    // send watchdog closes a client that stopped taking it).
    idle_timer_->enableTimer(settings_.idle_timeout);
    return;
  }
  closeConnection(network::CloseType::kNoFlush);
}

void ConnectionManager::onStreamBlocked(bool blocked) {
  if (blocked) {
    ++blocked_streams_;
    armSendWatchdog();
  } else if (blocked_streams_ > 0) {
    --blocked_streams_;
  }
}

bool ConnectionManager::waitingForClient() const {
  return blocked_streams_ > 0 || connection_->bufferedWriteBytes() > 0;
}

void ConnectionManager::armSendWatchdog() {
  if (closed_ || settings_.send_timeout.count() <= 0) return;
  if (!send_timer_) send_timer_ = dispatcher().createTimer([this] { onSendTimeout(); });
  if (send_timer_->enabled()) return;
  written_at_arm_ = connection_->bytesWritten();
  send_timer_->enableTimer(settings_.send_timeout);
}

void ConnectionManager::onSendTimeout() {
  if (closed_ || !waitingForClient()) return;  // caught up: re-armed when it falls behind again
  const uint64_t written = connection_->bytesWritten();
  if (written != written_at_arm_) {
    // Slow, but reading: another period.
    written_at_arm_ = written;
    send_timer_->enableTimer(settings_.send_timeout);
    return;
  }
  // The client took no byte for a whole send_timeout: drop what is queued
  // for it (closing frees the buffers and every stream's resources).
  LOG_INFO("send_timeout: closed the connection from ", connection_->remoteAddress(),
           ": no byte taken in ", settings_.send_timeout.count(), " ms (",
           connection_->bufferedWriteBytes(), " bytes queued, ", blocked_streams_,
           " streams paused)");
  closeConnection(network::CloseType::kNoFlush);
}

}  // namespace modgate::http
