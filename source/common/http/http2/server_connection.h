#pragma once

#include <nghttp2/nghttp2.h>

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "source/common/buffer/buffer.h"
#include "source/common/event/dispatcher.h"
#include "source/common/http/codec.h"
#include "source/common/http/header_map.h"
#include "source/common/http/http2/response_encoder.h"
#include "source/common/network/connection.h"

namespace modgate::http::http2 {

// The downstream HTTP/2 codec (prior knowledge or h2c upgrade) over nghttp2.
//
// Input: dispatch() feeds the buffer's slices to nghttp2_session_mem_recv()
// without copying them first. Output: frames are pulled with
// nghttp2_session_mem_send() into one buffer and handed to the connection
// with a single write() per dispatch() or flush. DATA frames use
// NGHTTP2_DATA_FLAG_NO_COPY: their payload is copied once from the stream's
// pending buffer into the output buffer, contiguous with its 9-byte frame
// header, and sized so that a frame fills one TLS record.
//
// Re-entrancy: nghttp2 must not be re-entered from its own callbacks, so
// encoder calls made from inside a callback (a response produced while a
// request is being decoded) only queue work; the output is pulled once the
// outermost call returns.
//
// Ownership rules for the owner (normally the connection manager):
//  * it closes the connection when dispatch() fails, or when wantsToClose()
//    is true and no stream is left;
//  * it forwards the network connection's write watermarks;
//  * it calls onConnectionClosed() when the network connection closes;
//  * it destroys the codec outside of the codec's own calls into it
//    (use deferredDelete()). Destroying the codec calls no stream callbacks:
//    call onConnectionClosed() first.
class ServerConnectionImpl : public ServerConnection {
 public:
  // A prior-knowledge connection: the first dispatch() starts with the
  // client connection preface. The server SETTINGS are queued (and written
  // on the first flush, which the constructor performs).
  ServerConnectionImpl(network::Connection& connection, ServerConnectionCallbacks& callbacks,
                       const CodecSettings& settings);
  ~ServerConnectionImpl() override;

  // An h2c upgrade (RFC 7540 3.2): the HTTP/1.1 codec has consumed
  // `request` and written "101 Switching Protocols". Applies the client's
  // HTTP2-Settings (base64url, padding optional), writes the server
  // SETTINGS, opens stream 1 (half-closed remote) and delivers `request`
  // through callbacks.newStream() -> decodeHeaders(request, true); the
  // response goes out on stream 1. The client preface and everything after
  // it come through dispatch(). The hop-by-hop upgrade headers (connection,
  // upgrade, http2-settings) are removed from `request`.
  // Returns nullptr if the settings payload is malformed; the caller then
  // closes the connection.
  static std::unique_ptr<ServerConnectionImpl> createUpgraded(
      network::Connection& connection, ServerConnectionCallbacks& callbacks,
      const CodecSettings& settings, std::string_view http2_settings_base64url,
      std::unique_ptr<RequestHeaders> request);

  // ServerConnection
  absl::Status dispatch(buffer::Buffer& data) override;
  // Sends a GOAWAY with the maximum stream id and a PING; once the PING is
  // acknowledged (the client has seen the notice) and no stream is active,
  // the final GOAWAY with the last processed stream id follows, after which
  // wantsToClose() turns true.
  void shutdownNotice() override;
  Protocol protocol() const override { return Protocol::kHttp2; }
  // True after a fatal error or when nghttp2 wants neither to read nor to
  // write (GOAWAY exchanged and no stream left).
  bool wantsToClose() const override;
  void onUnderlyingConnectionAboveWriteBufferHighWatermark() override;
  void onUnderlyingConnectionBelowWriteBufferLowWatermark() override;

  // Not part of ServerConnection: the owner calls this once the network
  // connection has closed (either side). Every stream whose producer is not
  // done gets onResetStream(kConnectionTermination); nothing is written or
  // parsed afterwards. Safe to call more than once.
  void onConnectionClosed();

  // For tests and stats: streams nghttp2 still has open.
  size_t activeStreams() const { return open_streams_; }

 private:
  friend class ResponseEncoderImpl;

  struct UpgradeTag {};
  ServerConnectionImpl(network::Connection& connection, ServerConnectionCallbacks& callbacks,
                       const CodecSettings& settings, UpgradeTag);
  // Creates the nghttp2 session; queues SETTINGS and the connection window.
  bool initSession(bool upgrade, std::string_view settings_payload, bool head_request);

  // nghttp2 callbacks; user_data is the codec.
  static int onBeginHeadersCb(nghttp2_session*, const nghttp2_frame* frame, void* user_data);
  static int onHeaderCb(nghttp2_session*, const nghttp2_frame* frame, const uint8_t* name,
                        size_t name_length, const uint8_t* value, size_t value_length,
                        uint8_t flags, void* user_data);
  static int onFrameRecvCb(nghttp2_session*, const nghttp2_frame* frame, void* user_data);
  static int onDataChunkRecvCb(nghttp2_session*, uint8_t flags, int32_t stream_id,
                               const uint8_t* data, size_t length, void* user_data);
  static int onFrameSendCb(nghttp2_session*, const nghttp2_frame* frame, void* user_data);
  static int onInvalidFrameRecvCb(nghttp2_session*, const nghttp2_frame* frame, int lib_error_code,
                                  void* user_data);
  static int onStreamCloseCb(nghttp2_session*, int32_t stream_id, uint32_t error_code,
                             void* user_data);
  static int sendDataCb(nghttp2_session*, nghttp2_frame* frame, const uint8_t* framehd,
                        size_t length, nghttp2_data_source* source, void* user_data);
  static ssize_t readDataCb(nghttp2_session*, int32_t stream_id, uint8_t* buf, size_t length,
                            uint32_t* data_flags, nghttp2_data_source* source, void* user_data);
  static ssize_t dataFrameLengthCb(nghttp2_session*, uint8_t frame_type, int32_t stream_id,
                                   int32_t session_remote_window_size,
                                   int32_t stream_remote_window_size,
                                   uint32_t remote_max_frame_size, void* user_data);

  int onBeginHeaders(const nghttp2_frame& frame);
  int onHeader(const nghttp2_frame& frame, std::string_view name, std::string_view value);
  int onFrameRecv(const nghttp2_frame& frame);
  int onDataChunkRecv(int32_t stream_id, const uint8_t* data, size_t length);
  int onFrameSend(const nghttp2_frame& frame);
  bool smallRemainderDeclared(const ResponseEncoderImpl& stream) const;
  int onStreamClose(int32_t stream_id, uint32_t error_code);
  // A stream error nghttp2 decided (it will send RST_STREAM): counted
  // against the reset budget now, not when the RST goes out, so that a
  // read batch full of them cannot reach nghttp2's stream limit first.
  int onInvalidFrameRecv(const nghttp2_frame& frame);
  void countProvokedReset(ResponseEncoderImpl& stream);
  // Takes one token from the stream reset bucket; false when it is empty.
  bool takeResetToken();
  int sendData(nghttp2_frame& frame, const uint8_t* framehd, size_t length);
  // The payload of each DATA frame nghttp2 packs.
  static ssize_t dataFrameLength(uint32_t remote_max_frame_size);
  ssize_t readData(int32_t stream_id, size_t length, uint32_t* data_flags);

  ResponseEncoderImpl* findStream(int32_t stream_id);
  // A request's headers are complete: hand it to the layer above.
  void startRequest(ResponseEncoderImpl& stream, bool end_stream);
  // Answers a rejected request (header limits) without involving the layer
  // above.
  void rejectRequest(ResponseEncoderImpl& stream, int status);

  // Pulls frames from nghttp2 into output_ and writes them (one write).
  // From inside an nghttp2 callback it only records that a flush is due.
  void flush();
  // Sends the final GOAWAY once the drain PING was acknowledged and no
  // stream is active.
  void maybeSendFinalGoaway();
  // Hands `stream` to deferredDelete() once both nghttp2 and the layer
  // above are done with it.
  void maybeRetire(ResponseEncoderImpl& stream);
  // Queues a fatal protocol error: GOAWAY, and dispatch() fails.
  void fail(uint32_t error_code, std::string reason);

  // For ResponseEncoderImpl.
  void submitResponse(ResponseEncoderImpl& stream, const ResponseHeaders& headers, bool end_stream);
  void resumeData(ResponseEncoderImpl& stream);
  // From readData(), when the data is out: trailers with END_STREAM.
  bool submitTrailers(ResponseEncoderImpl& stream);
  void resetStream(ResponseEncoderImpl& stream, uint32_t error_code);
  void onStreamBelowLowWatermark(ResponseEncoderImpl& stream);

  network::Connection& connection_;
  ServerConnectionCallbacks& callbacks_;
  const CodecSettings settings_;
  nghttp2_session* session_ = nullptr;

  // Streams by id. Looked up several times per frame (a hash, not a tree:
  // warm h2c .info spent ~1.3% in the lookups); iterated only when the
  // connection closes, which sorts the ids itself.
  absl::flat_hash_map<int32_t, std::unique_ptr<ResponseEncoderImpl>> streams_;
  size_t open_streams_ = 0;
  // The stream whose request header block is being decoded: each header
  // field is a callback, and looking the stream up for every one cost more
  // than the field. Cleared when the stream is retired.
  ResponseEncoderImpl* decoding_ = nullptr;

  // Frames pulled from nghttp2, written to the connection once per flush.
  buffer::Buffer output_;
  // Streams whose pending bytes fell below the low watermark while nghttp2
  // was on the stack; told after it returns.
  std::vector<int32_t> below_watermark_;

  int session_depth_ = 0;  // > 0 while nghttp2 is on the stack
  bool flush_pending_ = false;
  bool flushing_ = false;
  bool output_blocked_ = false;  // the network connection is above its watermark
  bool closed_ = false;          // onConnectionClosed() was called
  bool failed_ = false;
  std::string failure_;
  uint32_t goaway_error_sent_ = NGHTTP2_NO_ERROR;

  // Streams that ended in a reset the client caused: its RST_STREAM, or one
  // the server sent for the client's protocol error (a declared body that
  // never came, DATA past the limit...). nghttp2 limits only the first kind;
  // the second closes a stream as fast, its request's work already started,
  // without counting against max_concurrent_streams (CVE-2025-8671,
  // "MadeYouReset"). A bucket of http2_stream_reset_burst tokens refilled at
  // http2_stream_resets_per_second; empty ends the connection.
  double reset_tokens_;
  std::chrono::steady_clock::time_point reset_tokens_at_;

  bool draining_ = false;  // shutdownNotice() was called
  bool drain_ping_acked_ = false;
  bool final_goaway_submitted_ = false;
};

}  // namespace modgate::http::http2
