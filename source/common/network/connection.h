#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "source/common/buffer/buffer.h"
#include "source/common/event/dispatcher.h"

namespace modgate::network {

enum class ConnectionEvent {
  kConnected,    // client connections: the connect (and TLS handshake) finished
  kRemoteClose,  // the peer closed or the socket failed
  kLocalClose,   // close() was called and the connection is now closed
};

// Receives what happens on a connection. Called on the connection's
// dispatcher only.
class ConnectionCallbacks {
 public:
  virtual ~ConnectionCallbacks() = default;
  // Bytes arrived (already decrypted for TLS). The callee drains what it
  // consumed; the rest stays for the next call.
  virtual void onData(buffer::Buffer& data) = 0;
  virtual void onEvent(ConnectionEvent event) = 0;
  // Pending output rose above the high watermark: stop producing.
  virtual void onAboveWriteBufferHighWatermark() {}
  // Pending output fell to the low watermark: produce more.
  virtual void onBelowWriteBufferLowWatermark() {}
};

// What a TLS handshake established on a downstream connection: for streams,
// routes, module policy and the access log. Immutable once the handshake
// finished.
struct TlsInfo {
  std::string version;      // "TLSv1.3"
  std::string cipher;       // "TLS_AES_128_GCM_SHA256"
  std::string alpn;         // "h2", "http/1.1" or empty
  std::string server_name;  // the client's SNI, or empty
  bool session_reused = false;
  // A client certificate was presented and verified against the listener's
  // client CA (mTLS); the names below are then its names.
  bool peer_certificate = false;
  std::string peer_subject;                // RFC 2253, e.g. "CN=builder,O=Acme"
  std::vector<std::string> peer_uri_sans;  // e.g. "spiffe://cluster.local/ns/ci/sa/builder"
  std::vector<std::string> peer_dns_sans;
};

enum class CloseType {
  kFlushWrite,  // send what is queued, then close
  kNoFlush,     // close now, discarding queued output
};

// A byte stream over a socket, plain or TLS. Owned by one dispatcher.
class Connection {
 public:
  virtual ~Connection() = default;

  virtual void setCallbacks(ConnectionCallbacks& callbacks) = 0;
  // Queues all of `data` for writing (drains `data`).
  virtual void write(buffer::Buffer& data) = 0;
  virtual size_t bufferedWriteBytes() const = 0;
  // Bytes handed to the socket so far (for TLS: encrypted bytes). Only
  // grows; a send watchdog compares two readings to tell a slow reader
  // from one that stopped reading.
  virtual uint64_t bytesWritten() const = 0;
  // Output watermarks that drive onAbove/onBelow callbacks.
  virtual void setWriteBufferWatermarks(size_t low, size_t high) = 0;
  // Stops/resumes reading from the socket (back-pressure on the peer).
  virtual void readDisable(bool disable) = 0;
  virtual void close(CloseType type) = 0;
  virtual bool isOpen() const = 0;

  // "ip:port" of the peer.
  virtual const std::string& remoteAddress() const = 0;
  // ALPN result ("h2", "http/1.1") or empty.
  virtual std::string_view negotiatedProtocol() const = 0;
  // True if bytes written from files may go out with sendfile().
  virtual bool supportsSendfile() const = 0;
  // The TLS session once its handshake finished; null on plain connections.
  virtual std::shared_ptr<const TlsInfo> tlsInfo() const { return nullptr; }
  // Why the peer ended the connection, when the transport was told (a TLS
  // alert such as "certificate required"), else empty.
  virtual std::string closeDetail() const { return ""; }
  virtual event::Dispatcher& dispatcher() = 0;
  virtual uint64_t id() const = 0;
};
using ConnectionPtr = std::unique_ptr<Connection>;

}  // namespace modgate::network
