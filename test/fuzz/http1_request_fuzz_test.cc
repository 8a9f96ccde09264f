// The HTTP/1.1 request path: the server codec (http-parser) on arbitrary
// bytes, every complete request answered and its target parsed as the
// GOPROXY filter does.
#include "source/common/http/http1/server_connection.h"
#include "test/fuzz/codec_harness.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  modgate::event::DispatcherImpl dispatcher("fuzz");
  modgate::fuzz::FakeConnection connection(dispatcher);
  modgate::fuzz::AnsweringCallbacks callbacks;
  modgate::http::CodecSettings settings;
  {
    modgate::http::http1::ServerConnectionImpl codec(connection, callbacks, settings);
    modgate::fuzz::dispatchInPieces(codec, callbacks, data, size);
  }
  return 0;
}
