#include "test/common/http/recording_stream.h"

namespace modgate::http::testing {

namespace {

const char* resetReasonName(StreamResetReason reason) {
  switch (reason) {
    case StreamResetReason::kRemoteReset:
      return "remote";
    case StreamResetReason::kConnectionTermination:
      return "termination";
    case StreamResetReason::kLocalReset:
      return "local";
    case StreamResetReason::kProtocolError:
      return "protocol";
  }
  return "?";
}

}  // namespace

RecordingStream::RecordingStream(ResponseEncoder& encoder, EventLog& events,
                                 event::Dispatcher& dispatcher)
    : encoder_(encoder), events_(events), dispatcher_(dispatcher) {
  encoder_.setStreamCallbacks(*this);
}

void RecordingStream::recordRequest(std::unique_ptr<RequestHeaders> headers) {
  request_ = std::move(headers);
  std::string event = "request:" + request_->method + " " + request_->path + " " +
                      request_->authority + " " + request_->scheme;
  for (const HeaderMap::Entry& entry : request_->headers.entries()) {
    event += " " + entry.name + "=" + entry.value;
  }
  events_.record(event);
}

void RecordingStream::appendBody(buffer::Buffer& data, bool end_stream) {
  body_ += data.toString();
  data.drain(data.length());
  if (end_stream) events_.record("body:" + request_->path + ":" + std::to_string(body_.size()));
}

void RecordingStream::onResetStream(StreamResetReason reason) {
  if (done_) return;
  events_.record("reset:" + request_->path + ":" + resetReasonName(reason));
  finish();
}

void RecordingStream::onAboveWriteBufferHighWatermark() {
  events_.record("above:" + request_->path);
  paused_ = true;
}

void RecordingStream::onBelowWriteBufferLowWatermark() {
  events_.record("below:" + request_->path);
  paused_ = false;
  onResume();
}

void RecordingStream::respond(int status, const std::string& body) {
  ResponseHeaders headers;
  headers.status = status;
  headers.headers.add("content-type", "text/plain");
  headers.headers.add("content-length", std::to_string(body.size()));
  encoder_.encodeHeaders(headers, false);
  buffer::Buffer data;
  data.add(body);
  encoder_.encodeData(data, true);
  complete();
}

void RecordingStream::respondHeadersOnly(int status) {
  ResponseHeaders headers;
  headers.status = status;
  encoder_.encodeHeaders(headers, true);
  complete();
}

void RecordingStream::hang(size_t content_length) {
  ResponseHeaders headers;
  headers.headers.add("content-length", std::to_string(content_length));
  encoder_.encodeHeaders(headers, false);
  buffer::Buffer part;
  part.add("partial");
  encoder_.encodeData(part, false);
}

void RecordingStream::resetAfterHeaders() {
  ResponseHeaders headers;
  headers.headers.add("content-length", "1000");
  encoder_.encodeHeaders(headers, false);
  encoder_.resetStream();
}

void RecordingStream::later(std::chrono::milliseconds delay, std::function<void()> cb) {
  timer_ = dispatcher_.createTimer([this, cb = std::move(cb)] {
    if (!done_) cb();
  });
  timer_->enableTimer(delay);
}

void RecordingStream::complete() {
  if (done_) return;
  events_.record(completeEvent());
  finish();
}

void RecordingStream::finish() {
  done_ = true;
  if (timer_) timer_->disableTimer();
  onDone();
}

}  // namespace modgate::http::testing
