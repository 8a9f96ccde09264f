// The HTTP/2 server connection (nghttp2) on arbitrary frames after the
// client preface, every complete request answered.
#include <cstring>

#include "source/common/http/http2/server_connection.h"
#include "test/fuzz/codec_harness.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static constexpr char kPreface[] = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";
  // Without the preface nghttp2 stops at once: supply it unless the input
  // does, so the frames behind it are what gets explored.
  std::string input;
  if (size > 0) input.push_back(static_cast<char>(data[0]));
  const bool has_preface = size > 24 && std::memcmp(data + 1, kPreface, 24) == 0;
  if (!has_preface) input.append(kPreface, 24);
  if (size > 1) input.append(reinterpret_cast<const char*>(data + 1), size - 1);

  modgate::event::DispatcherImpl dispatcher("fuzz");
  modgate::fuzz::FakeConnection connection(dispatcher);
  modgate::fuzz::AnsweringCallbacks callbacks;
  modgate::http::CodecSettings settings;
  {
    modgate::http::http2::ServerConnectionImpl codec(connection, callbacks, settings);
    modgate::fuzz::dispatchInPieces(codec, callbacks,
                                    reinterpret_cast<const uint8_t*>(input.data()), input.size());
  }
  return 0;
}
