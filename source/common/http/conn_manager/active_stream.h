#pragma once

#include <memory>
#include <vector>

#include "source/common/event/dispatcher.h"
#include "source/common/http/codec.h"
#include "source/common/http/conn_manager/protocol_counters.h"
#include "source/common/http/filter.h"

namespace modgate::http {

class ConnectionManager;

// One request/response exchange on a downstream connection: the codec's
// RequestDecoder on one side, the filter chain's callbacks on the other.
// Created by the codec's newStream(), destroyed (deferred) once the response
// is fully encoded or the stream is reset.
class ActiveStream : public RequestDecoder,
                     public StreamCallbacks,
                     public StreamFilterCallbacks,
                     public event::DeferredDeletable {
 public:
  ActiveStream(ConnectionManager& parent, ResponseEncoder& encoder,
               std::vector<StreamFilterPtr> filters);
  ~ActiveStream() override;

  // RequestDecoder
  void decodeHeaders(std::unique_ptr<RequestHeaders> headers, bool end_stream) override;
  void decodeData(buffer::Buffer& data, bool end_stream) override;

  // StreamCallbacks (from the codec)
  void onResetStream(StreamResetReason reason) override;
  void onAboveWriteBufferHighWatermark() override;
  void onBelowWriteBufferLowWatermark() override;

  // StreamFilterCallbacks (from the filters)
  event::Dispatcher& dispatcher() override;
  StreamInfo& streamInfo() override { return info_; }
  void continueDecoding() override;
  void sendLocalReply(int status, std::string_view reason) override;
  void sendLocalReply(int status, std::string_view reason, const HeaderMap& headers) override;
  void encodeHeaders(ResponseHeaders& headers, bool end_stream) override;
  void encodeData(buffer::Buffer& data, bool end_stream) override;
  void encodeTrailers(const HeaderMap& trailers) override;
  void resetStream() override;
  bool streamReset() const override { return state_ == State::kReset; }

  // The connection is going away under the stream.
  void resetFromConnection();

 private:
  enum class State { kDecoding, kEncoding, kComplete, kReset };
  void iterateFilters();
  void complete();
  void finish();

  ConnectionManager& parent_;
  // Where this stream is counted as active (its connection's protocol).
  ProtocolCounters::Counts* protocol_counts_ = nullptr;
  ResponseEncoder& encoder_;
  std::vector<StreamFilterPtr> filters_;
  size_t next_filter_ = 0;
  std::unique_ptr<RequestHeaders> request_;
  bool request_complete_ = false;
  bool headers_encoded_ = false;
  // Paused above the write watermark (the connection's send watchdog runs).
  bool blocked_ = false;
  State state_ = State::kDecoding;
  StreamInfo info_;
};

}  // namespace modgate::http
