#include "source/common/http/conn_manager/connection_manager.h"

#include <cstring>

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
    closeConnection(network::CloseType::kFlushWrite);
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
    if (!codec_->dispatch(data).ok()) closeConnection(network::CloseType::kFlushWrite);
  }
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
  streams_.remove(&stream);
  dispatcher().deferredDelete(event::DeferredDeletablePtr(&stream));
  if (!streams_.empty() || closed_) return;
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
  if (drain_timer_) drain_timer_->disableTimer();
  if (codec_connection_closed_) codec_connection_closed_();
  // Anything the codec did not know about (it should know all).
  while (!streams_.empty()) streams_.front()->resetFromConnection();
  on_closed_(*this);
}

void ConnectionManager::onAboveWriteBufferHighWatermark() {
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
  if (streams_.empty()) closeConnection(network::CloseType::kNoFlush);
}

}  // namespace modgate::http
