#pragma once

#include <nghttp2/nghttp2.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "source/common/buffer/buffer.h"
#include "source/common/event/dispatcher.h"
#include "source/common/network/connection.h"
#include "source/upstream/client_connection.h"
#include "source/upstream/http_client.h"
#include "source/upstream/resource_limit.h"

namespace modgate::upstream {

class Http2ClientStream;

// One HTTP/2 connection to an origin (h2 picked by ALPN over TLS, or h2c
// with prior knowledge) carrying many requests at once, one stream each.
// Owned by the origin's ConnectionPool; each request holds an
// Http2ClientStream, so a reset, timeout or cancel ends one stream only.
//
// Flow control is manual (NGHTTP2_OPT_NO_AUTO_WINDOW_UPDATE). The connection
// window is credited as soon as DATA arrives, so a stream whose reader is
// slow never stalls its siblings; a stream's own window is credited only as
// its decoder drains the bytes, so a paused stream (readDisable) makes the
// origin stop after kStreamWindow bytes, which bounds what is buffered for it.
//
// Output: everything nghttp2 has queued is collected with one
// nghttp2_session_mem_send loop and handed to the transport as one write.
// Requests submitted during one loop iteration share a flush.
class Http2ClientConnection : public event::DeferredDeletable,
                              private network::ConnectionCallbacks {
 public:
  // SETTINGS_INITIAL_WINDOW_SIZE we announce: at most this much of one
  // stream's body is buffered while its reader is paused.
  static constexpr int32_t kStreamWindow = 1 << 20;
  // The connection's receive window (credited on arrival, so it only bounds
  // bytes in flight).
  static constexpr int32_t kConnectionWindow = 16 << 20;
  // Streams assumed allowed until the origin's SETTINGS say otherwise
  // (RFC 9113 recommends at least 100).
  static constexpr uint32_t kAssumedMaxConcurrentStreams = 100;
  // Response header bytes (names + values) beyond which a stream fails with
  // kOverflow, as for HTTP/1.1.
  static constexpr size_t kMaxHeaderBytes = 64 * 1024;

  // `connection` is connected (and, for TLS, negotiated h2). `scheme` goes in
  // :scheme. With no streams for `idle_timeout` the connection closes.
  Http2ClientConnection(network::ConnectionPtr connection, std::string scheme,
                        std::chrono::milliseconds idle_timeout);
  ~Http2ClientConnection() override;

  // Room for one more stream: open, no GOAWAY either way, and fewer streams
  // than the origin's SETTINGS_MAX_CONCURRENT_STREAMS.
  bool acceptsStreams() const;
  // Reserves a stream; its request goes out at sendRequest(). Only when
  // acceptsStreams().
  std::unique_ptr<Http2ClientStream> newStream();

  bool isOpen() const { return !closed_; }
  // GOAWAY and close. Streams still running fail with kReset.
  void close();
  // Runs once when the connection is closed for any reason, after the
  // streams were told. The pool removes the connection with it.
  void setCloseCallback(std::function<void()> cb) { close_cb_ = std::move(cb); }
  uint64_t id() const { return id_; }
  // The connection's place under the circuit breakers, released as soon as
  // it closes.
  void adoptSlot(ResourceHandlePtr slot) { slot_ = std::move(slot); }

  // Streams reserved or open (what counts against the origin's limit).
  size_t activeStreams() const { return streams_.size() + reserved_; }
  // Received body bytes not yet taken by the decoders, for tests and stats.
  size_t bufferedBodyBytes() const;

 private:
  friend class Http2ClientStream;

  // For Http2ClientStream.
  void submit(Http2ClientStream& stream, const RequestHead& head);
  // The stream's owner let go: RST_STREAM(CANCEL) if it is still open.
  void detach(Http2ClientStream& stream);
  // The decoder drained `bytes` of the stream's body: credit its window.
  void consume(int32_t stream_id, size_t bytes);
  // A streaming request body has new bytes (or its end) for nghttp2.
  void resumeData(int32_t stream_id);
  // Sends what nghttp2 queued, at the end of the current dispatch or in the
  // next loop iteration (so several submits share one write).
  void scheduleFlush();

  // network::ConnectionCallbacks
  void onData(buffer::Buffer& data) override;
  void onEvent(network::ConnectionEvent event) override;

  static int onBeginHeadersCb(nghttp2_session*, const nghttp2_frame*, void*);
  static int onHeaderCb(nghttp2_session*, const nghttp2_frame*, const uint8_t*, size_t,
                        const uint8_t*, size_t, uint8_t, void*);
  static int onFrameRecvCb(nghttp2_session*, const nghttp2_frame*, void*);
  static int onDataChunkRecvCb(nghttp2_session*, uint8_t, int32_t, const uint8_t*, size_t, void*);
  static int onStreamCloseCb(nghttp2_session*, int32_t, uint32_t, void*);
  static int onFrameNotSendCb(nghttp2_session*, const nghttp2_frame*, int, void*);
  static ssize_t onDataSourceReadCb(nghttp2_session*, int32_t, uint8_t*, size_t, uint32_t*,
                                    nghttp2_data_source*, void*);

  Http2ClientStream* find(int32_t stream_id) const;
  // Hands what the last read produced to the decoders (outside of nghttp2).
  void deliverAll();
  void flush();
  // Closes once a GOAWAY'd connection has no streams left; (dis)arms the
  // idle timer.
  void checkIdle();
  // Closes the transport and detaches every stream; streams that had not
  // ended fail with `reason`.
  void shutdown(FailureReason reason, std::string detail);

  network::ConnectionPtr connection_;
  ResourceHandlePtr slot_;
  const std::string scheme_;
  const std::chrono::milliseconds idle_timeout_;
  const uint64_t id_;
  nghttp2_session* session_ = nullptr;
  // Submitted streams nghttp2 has not closed yet; nullptr once detached.
  absl::flat_hash_map<int32_t, Http2ClientStream*> streams_;
  // Every stream handle pointing at this connection.
  absl::flat_hash_set<Http2ClientStream*> attached_;
  size_t reserved_ = 0;  // handles not yet submitted
  bool goaway_received_ = false;
  bool closed_ = false;
  int dispatch_depth_ = 0;
  bool flush_pending_ = false;
  std::function<void()> close_cb_;
  event::TimerPtr flush_timer_;
  event::TimerPtr idle_timer_;
};

}  // namespace modgate::upstream
