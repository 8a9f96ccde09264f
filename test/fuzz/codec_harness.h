#pragma once

// What the HTTP codec fuzz targets share: a network::Connection that only
// collects what the codec writes, and server callbacks that answer every
// complete request (so the response path runs too) and parse its target as
// the GOPROXY filter would.

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "source/common/event/dispatcher_impl.h"
#include "source/common/http/codec.h"
#include "source/common/network/connection.h"
#include "source/goproxy/request.h"

namespace modgate::fuzz {

class FakeConnection : public network::Connection {
 public:
  explicit FakeConnection(event::Dispatcher& dispatcher) : dispatcher_(dispatcher) {}
  void setCallbacks(network::ConnectionCallbacks&) override {}
  void write(buffer::Buffer& data) override {
    written_ += data.length();
    data.drain(data.length());
  }
  size_t bufferedWriteBytes() const override { return 0; }
  uint64_t bytesWritten() const override { return 0; }
  void setWriteBufferWatermarks(size_t, size_t) override {}
  void readDisable(bool) override {}
  void close(network::CloseType) override { open_ = false; }
  bool isOpen() const override { return open_; }
  const std::string& remoteAddress() const override { return address_; }
  std::string_view negotiatedProtocol() const override { return ""; }
  bool supportsSendfile() const override { return false; }
  event::Dispatcher& dispatcher() override { return dispatcher_; }
  uint64_t id() const override { return 1; }

 private:
  event::Dispatcher& dispatcher_;
  std::string address_ = "127.0.0.1:1";
  uint64_t written_ = 0;
  bool open_ = true;
};

class AnsweringStream : public http::RequestDecoder, public http::StreamCallbacks {
 public:
  explicit AnsweringStream(http::ResponseEncoder& encoder) : encoder_(encoder) {
    encoder_.setStreamCallbacks(*this);
  }
  void decodeHeaders(std::unique_ptr<http::RequestHeaders> headers, bool end_stream) override {
    // The GOPROXY filter's first step on every request.
    (void)goproxy::ParseRequest(headers->path);
    if (end_stream) answer();
  }
  void decodeData(buffer::Buffer& data, bool end_stream) override {
    data.drain(data.length());
    if (end_stream) answer();
  }
  void onResetStream(http::StreamResetReason) override { reset_ = true; }
  void onAboveWriteBufferHighWatermark() override {}
  void onBelowWriteBufferLowWatermark() override {}

 private:
  void answer() {
    if (reset_ || answered_) return;
    answered_ = true;
    http::ResponseHeaders response;
    response.status = 200;
    response.headers.add("content-type", "text/plain");
    response.headers.add("content-length", "2");
    encoder_.encodeHeaders(response, false);
    if (reset_) return;
    buffer::Buffer body;
    body.add(std::string("ok"));
    encoder_.encodeData(body, true);
  }

  http::ResponseEncoder& encoder_;
  bool reset_ = false;
  bool answered_ = false;
};

class AnsweringCallbacks : public http::ServerConnectionCallbacks {
 public:
  http::RequestDecoder& newStream(http::ResponseEncoder& encoder) override {
    streams_.push_back(std::make_unique<AnsweringStream>(encoder));
    return *streams_.back();
  }
  void onUpgradeToH2c(std::unique_ptr<http::RequestHeaders>, std::string,
                      buffer::Buffer& rest) override {
    rest.drain(rest.length());
    upgraded_ = true;
  }
  bool upgraded() const { return upgraded_; }

 private:
  // Kept for the codec's lifetime: it may still call a stream it reset.
  std::vector<std::unique_ptr<AnsweringStream>> streams_;
  bool upgraded_ = false;
};

// Feeds `input` to `codec` in pieces whose sizes the input's first byte
// picks, stopping at the first protocol error, as the connection manager
// does (it closes the connection).
template <typename Codec>
void dispatchInPieces(Codec& codec, const AnsweringCallbacks& callbacks, const uint8_t* data,
                      size_t size) {
  if (size == 0) return;
  const size_t piece = 1 + data[0] % 64;
  ++data;
  --size;
  for (size_t at = 0; at < size && !callbacks.upgraded(); at += piece) {
    buffer::Buffer chunk;
    chunk.add(std::string(reinterpret_cast<const char*>(data + at), std::min(piece, size - at)));
    if (!codec.dispatch(chunk).ok()) return;
  }
}

}  // namespace modgate::fuzz
