#pragma once

#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <string>

#include "source/common/buffer/buffer.h"
#include "source/common/event/dispatcher.h"
#include "source/common/http/codec.h"
#include "test/common/http/event_log.h"

namespace modgate::http::testing {

// The protocol-neutral half of a test server's stream. It records in an
// EventLog what the codec tells it:
//   request:METHOD PATH AUTHORITY SCHEME name=value...   body:PATH:SIZE
//   reset:PATH:REASON   above:PATH   below:PATH   and the completion event,
// and gives the protocol's path table the means to answer (respond(),
// later(), complete()). The protocol's stream decides when to answer, what
// its completion event says, and tells its connection when it is done.
class RecordingStream : public RequestDecoder,
                        public StreamCallbacks,
                        public event::DeferredDeletable {
 public:
  // StreamCallbacks
  void onResetStream(StreamResetReason reason) override;
  void onAboveWriteBufferHighWatermark() override;
  void onBelowWriteBufferLowWatermark() override;

 protected:
  RecordingStream(ResponseEncoder& encoder, EventLog& events, event::Dispatcher& dispatcher);

  // Keeps the request headers and records the request event.
  void recordRequest(std::unique_ptr<RequestHeaders> headers);
  // Moves `data` into body(); at the end of the stream records the body event.
  void appendBody(buffer::Buffer& data, bool end_stream);

  // Answers `status` with a text/plain `body`, then complete().
  void respond(int status, const std::string& body);
  // Answers `status` with headers only, then complete().
  void respondHeadersOnly(int status);
  // Sends headers promising `content_length` bytes and a few of them, then
  // nothing more: the stream ends when the client gives up.
  void hang(size_t content_length);
  // Sends headers promising a body, then resets the stream.
  void resetAfterHeaders();
  // Runs `cb` after `delay` unless the stream is done by then.
  void later(std::chrono::milliseconds delay, std::function<void()> cb);
  // Records the completion event, once, and finishes the stream.
  void complete();

  const RequestHeaders& request() const { return *request_; }
  const std::string& body() const { return body_; }
  ResponseEncoder& encoder() { return encoder_; }
  bool done() const { return done_; }
  // Between the above- and below-watermark callbacks: produce nothing.
  bool paused() const { return paused_; }

 private:
  // What complete() records.
  virtual std::string completeEvent() const = 0;
  // The write side drained below its low watermark: carry on producing.
  virtual void onResume() {}
  // The stream completed or was reset: its connection may drop it.
  virtual void onDone() = 0;

  void finish();

  ResponseEncoder& encoder_;
  EventLog& events_;
  event::Dispatcher& dispatcher_;
  // Never null, so a reset before the headers can still be recorded.
  std::unique_ptr<RequestHeaders> request_ = std::make_unique<RequestHeaders>();
  std::string body_;
  event::TimerPtr timer_;
  bool done_ = false;
  bool paused_ = false;
};

}  // namespace modgate::http::testing
