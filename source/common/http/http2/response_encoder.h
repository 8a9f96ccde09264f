#pragma once

#include <cstdint>
#include <memory>
#include <optional>

#include "source/common/buffer/buffer.h"
#include "source/common/event/dispatcher.h"
#include "source/common/http/codec.h"
#include "source/common/http/header_map.h"

namespace modgate::http::http2 {

class ServerConnectionImpl;

// One HTTP/2 stream of a ServerConnectionImpl: the request being received
// and the ResponseEncoder the layer above answers through.
//
// Lifetime: owned by the connection from its HEADERS frame until both
//  (a) nghttp2 has closed the stream, and
//  (b) the layer above is done with it: it encoded end_stream, or it was
//      told onResetStream().
// It is then handed to the dispatcher's deferredDelete(), so an encoder
// call on the stack can finish. Once (b) holds, the codec never calls the
// stream's RequestDecoder or StreamCallbacks again.
class ResponseEncoderImpl : public ResponseEncoder, public event::DeferredDeletable {
 public:
  ResponseEncoderImpl(ServerConnectionImpl& parent, int32_t stream_id);

  // ResponseEncoder
  void encodeHeaders(const ResponseHeaders& headers, bool end_stream) override;
  void encodeData(buffer::Buffer& data, bool end_stream) override;
  void encodeTrailers(const HeaderMap& trailers) override;
  void setStreamCallbacks(StreamCallbacks& callbacks) override { stream_callbacks_ = &callbacks; }
  void resetStream() override;
  Protocol protocol() const override { return Protocol::kHttp2; }

  int32_t streamId() const { return stream_id_; }

 private:
  friend class ServerConnectionImpl;

  // The layer above still owns its side of the stream (decoder, callbacks).
  bool attached() const { return !local_end_ && !reset_notified_; }
  // Tells the layer above the stream is gone, once.
  void notifyReset(StreamResetReason reason);
  // Checks the pending bytes against the stream's watermarks after a
  // producer added bytes.
  void checkHighWatermark();

  ServerConnectionImpl& parent_;
  const int32_t stream_id_;
  StreamCallbacks* stream_callbacks_ = nullptr;
  RequestDecoder* decoder_ = nullptr;

  // --- request side ---
  std::unique_ptr<RequestHeaders> request_ = std::make_unique<RequestHeaders>();
  std::string host_;  // "host" header, used when :authority is absent
  size_t header_bytes_ = 0;
  uint32_t header_count_ = 0;
  int reject_status_ = 0;  // 431 when the request headers are over the limits
  bool is_head_ = false;
  bool remote_end_ = false;    // the client ended its side (END_STREAM)
  bool remote_reset_ = false;  // the client sent RST_STREAM
  // The layer above reset it (an upstream failed mid-body): not the
  // client's doing, so not counted against its reset budget.
  bool app_reset_ = false;
  // Already counted against the client's reset budget.
  bool reset_counted_ = false;
  uint64_t body_bytes_ = 0;
  // The request's content-length, when it declared one.
  std::optional<uint64_t> declared_body_bytes_;
  // DATA payload received for the frame being read; delivered at frame end.
  buffer::Buffer body_;

  // --- response side ---
  bool headers_sent_ = false;
  // END_STREAM was handed to nghttp2 (HEADERS-only or the data EOF).
  bool end_stream_submitted_ = false;
  // The producer said end_stream (or a HEAD / headers-only response).
  bool local_end_ = false;
  bool reset_notified_ = false;
  bool has_data_provider_ = false;
  bool data_deferred_ = false;
  bool above_high_watermark_ = false;
  // Bytes encoded but not yet framed.
  buffer::Buffer pending_;
  // Trailers to send once pending_ is framed (then END_STREAM is on them).
  std::unique_ptr<HeaderMap> trailers_;
  // The response's shared fields (ResponseHeaders::shared), which nghttp2
  // reads in place when it packs HEADERS: kept for the stream's life.
  std::shared_ptr<const HeaderMap> shared_response_fields_;

  // nghttp2 closed the stream.
  bool closed_ = false;
};

}  // namespace modgate::http::http2
