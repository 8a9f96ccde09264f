#pragma once

namespace modgate::http::testing {

// One accepted connection of a LoopbackServer, as the server sees it: the
// protocol's test connection implements this and owns its socket and codec.
// Called on the server's dispatcher thread.
class LoopbackConnection {
 public:
  virtual ~LoopbackConnection() = default;

  // Closes the socket at once, dropping unwritten output.
  virtual void closeNow() = 0;
  // Asks the codec to announce a graceful shutdown to the peer.
  virtual void shutdownNotice() = 0;
};

}  // namespace modgate::http::testing
