#pragma once

#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "source/common/event/dispatcher.h"
#include "source/common/http/codec.h"
#include "source/common/http/conn_manager/protocol_counters.h"
#include "source/common/http/filter.h"
#include "source/common/network/connection.h"

namespace modgate::http {

class ActiveStream;

struct ConnectionManagerSettings {
  CodecSettings codec;
  // Closes a connection with no request in progress after this long; this
  // also bounds how long a client may take to send request headers.
  std::chrono::milliseconds idle_timeout{60000};
  // HTTP/1.1: once the first byte of a request arrived, its headers must be
  // complete within this (slow-header clients hold a connection otherwise).
  std::chrono::milliseconds request_headers_timeout{10000};
  // After a drain starts, connections close once idle or after this long.
  std::chrono::milliseconds drain_timeout{5000};
  // A connection with response bytes waiting for the client (in its
  // socket buffer, or a stream paused by the client's reading or flow
  // control) is closed when no byte reached the socket for this long: the
  // client stopped reading. Not a cap on a download's length: every byte
  // the client takes restarts it. 0 = never.
  std::chrono::milliseconds send_timeout{60000};

  // Where connections and streams are counted by protocol; null: not counted.
  ProtocolCounters* protocol_counters = nullptr;
};

// Owns one downstream connection: picks the codec (HTTP/2 by its preface,
// else HTTP/1.1, upgrading to h2c on request), creates a stream with a fresh
// filter chain per request, and closes the connection when idle or broken.
class ConnectionManager : public network::ConnectionCallbacks,
                          public ServerConnectionCallbacks,
                          public event::DeferredDeletable {
 public:
  using ClosedCb = std::function<void(ConnectionManager&)>;

  ConnectionManager(network::ConnectionPtr connection, FilterChainFactory& filters,
                    const ConnectionManagerSettings& settings, ClosedCb on_closed);
  ~ConnectionManager() override;

  // network::ConnectionCallbacks
  void onData(buffer::Buffer& data) override;
  void onEvent(network::ConnectionEvent event) override;
  void onAboveWriteBufferHighWatermark() override;
  void onBelowWriteBufferLowWatermark() override;

  // ServerConnectionCallbacks
  RequestDecoder& newStream(ResponseEncoder& encoder) override;
  void onUpgradeToH2c(std::unique_ptr<RequestHeaders> request, std::string http2_settings,
                      buffer::Buffer& rest) override;

  // Graceful close: no new requests, close once in-flight ones finish, or
  // after settings.drain_timeout at the latest (or `timeout`).
  void drain();
  void drain(std::chrono::milliseconds timeout);
  network::Connection& connection() { return *connection_; }
  // The config name of the listener that accepted this connection.
  void setListenerName(std::string name) { listener_name_ = std::move(name); }
  const std::string& listenerName() const { return listener_name_; }
  event::Dispatcher& dispatcher() { return connection_->dispatcher(); }

 private:
  friend class ActiveStream;
  void createCodec(buffer::Buffer& data);
  // Counts this connection under the protocol its codec speaks (again after
  // an h2c upgrade, moving it from http1 to h2c).
  void countProtocol(bool http2);
  // The counts of this connection's protocol, or null before a codec.
  ProtocolCounters::Counts* protocolCounts() { return protocol_counts_; }
  void finishUpgrade(buffer::Buffer& data);
  void onStreamDone(ActiveStream& stream);
  void closeConnection(network::CloseType type);
  // The codec gave up on the client (a protocol error or an abuse limit):
  // counted, then closed after what the codec queued (its GOAWAY or 400).
  void closeForProtocolError(const absl::Status& status);
  void resetIdleTimer();
  void onIdleTimeout();
  // A stream is paused because the client is not taking its bytes (true),
  // or resumed (false).
  void onStreamBlocked(bool blocked);
  // Watches for write progress while output waits for the client.
  void armSendWatchdog();
  void onSendTimeout();
  bool waitingForClient() const;

  network::ConnectionPtr connection_;
  std::string listener_name_;
  FilterChainFactory& filters_;
  const ConnectionManagerSettings& settings_;
  ClosedCb on_closed_;
  ServerConnectionPtr codec_;
  // Old codecs replaced by an h2c upgrade, freed once off the stack.
  ServerConnectionPtr retired_codec_;
  std::function<void()> codec_connection_closed_;
  // An h2c upgrade waiting for the client's preface (see onUpgradeToH2c).
  std::unique_ptr<RequestHeaders> pending_upgrade_request_;
  std::string pending_upgrade_settings_;
  // In arrival order. A vector, not a list: no node to allocate per stream,
  // and an h2 connection holds at most max_concurrent_streams to search.
  std::vector<ActiveStream*> streams_;
  ProtocolCounters::Counts* protocol_counts_ = nullptr;
  event::TimerPtr idle_timer_;
  event::TimerPtr drain_timer_;
  event::TimerPtr send_timer_;
  // connection_->bytesWritten() when the send watchdog was last (re)armed.
  uint64_t written_at_arm_ = 0;
  // Streams paused above their write watermark.
  uint32_t blocked_streams_ = 0;
  bool closed_ = false;
  // The idle timer currently bounds a partial HTTP/1.1 request's headers.
  bool awaiting_headers_ = false;
  bool draining_ = false;
};

}  // namespace modgate::http
