#pragma once

#include <memory>
#include <string>

#include "source/common/buffer/buffer.h"
#include "source/common/event/dispatcher.h"
#include "source/common/network/connection.h"
#include "source/common/tls/ssl_ptr.h"

struct bio_st;

namespace modgate::tls {

// TLS over another Connection (the transport, normally a plain TCP
// SocketConnection). BoringSSL never touches the socket: ciphertext moves
// between the transport and a pair of memory BIOs, and SSL_do_handshake /
// SSL_read / SSL_write are pumped from the transport's callbacks, which
// libevent drives.
//
// Server role (an SSL in accept state, from a tls::ServerContext): the
// handshake starts at once and kConnected reaches the callbacks when it
// finished; the manager ignores it, and tlsInfo() describes the session.
//
// Client role: the handshake starts when the transport connects (or at once
// if it already is connected), and kConnected reaches the callbacks only after
// the handshake (and certificate verification) succeeded. A failed handshake
// closes the transport and reports kRemoteClose; handshakeError() then says
// why.
class TlsConnection : public network::Connection, private network::ConnectionCallbacks {
 public:
  // `transport_connected`: the transport already reported kConnected.
  // `owner`: kept alive as long as this connection (the server context the
  // SSL's callbacks reach).
  TlsConnection(SslPtr ssl, network::ConnectionPtr transport, bool transport_connected = false,
                std::shared_ptr<const void> owner = nullptr);
  ~TlsConnection() override;

  // True once the transport connected (so a close before kConnected is a TLS
  // failure rather than a TCP one).
  bool transportConnected() const { return transport_connected_; }
  bool handshakeComplete() const { return state_ == State::kOpen || handshake_done_; }
  // Why the handshake failed (certificate verification, protocol alert), or
  // empty.
  const std::string& handshakeError() const { return handshake_error_; }

  // network::Connection
  void setCallbacks(network::ConnectionCallbacks& callbacks) override { callbacks_ = &callbacks; }
  void write(buffer::Buffer& data) override;
  size_t bufferedWriteBytes() const override;
  uint64_t bytesWritten() const override { return transport_->bytesWritten(); }
  void setWriteBufferWatermarks(size_t low, size_t high) override;
  void readDisable(bool disable) override;
  void close(network::CloseType type) override;
  bool isOpen() const override { return state_ != State::kClosed; }
  const std::string& remoteAddress() const override { return transport_->remoteAddress(); }
  std::string_view negotiatedProtocol() const override;
  bool supportsSendfile() const override { return false; }
  std::shared_ptr<const network::TlsInfo> tlsInfo() const override { return tls_info_; }
  // A fatal alert after the handshake: with TLS 1.3 a server rejects a
  // client certificate only once the client thinks it is connected.
  std::string closeDetail() const override { return close_detail_; }
  event::Dispatcher& dispatcher() override { return transport_->dispatcher(); }
  uint64_t id() const override { return transport_->id(); }

 private:
  enum class State { kConnecting, kHandshaking, kOpen, kClosing, kClosed };

  // network::ConnectionCallbacks (from the transport)
  void onData(buffer::Buffer& data) override;
  void onEvent(network::ConnectionEvent event) override;
  void onAboveWriteBufferHighWatermark() override;
  void onBelowWriteBufferLowWatermark() override;

  void doHandshake();
  // Decrypts what the read BIO holds and hands it to the callbacks.
  void readPlaintext();
  // Encrypts queued plaintext.
  void encryptPending();
  // Hands the records in ciphertext_out_ to the transport (one write).
  void flushCiphertext();
  void fail(std::string detail);
  void closeTransport(network::CloseType type);
  void finishClose(network::ConnectionEvent event);

  std::shared_ptr<const void> owner_;  // before ssl_: destroyed after it
  // Records BoringSSL wrote (through network_out_), not yet handed to the
  // transport. Before ssl_: its write BIO points here.
  buffer::Buffer ciphertext_out_;
  SslPtr ssl_;
  bio_st* network_in_ = nullptr;   // ciphertext from the peer (owned by ssl_)
  bio_st* network_out_ = nullptr;  // appends ciphertext to ciphertext_out_ (owned by ssl_)
  network::ConnectionPtr transport_;
  network::ConnectionCallbacks* callbacks_ = nullptr;
  State state_ = State::kConnecting;
  bool transport_connected_ = false;
  bool handshake_done_ = false;
  bool read_disabled_ = false;
  bool peer_closed_ = false;  // close_notify or transport EOF seen
  bool transport_close_requested_ = false;
  buffer::Buffer plaintext_in_;
  buffer::Buffer plaintext_out_;  // queued until the handshake finishes
  std::string handshake_error_;
  std::string close_detail_;
  std::shared_ptr<const network::TlsInfo> tls_info_;
  // Re-delivers already decrypted/buffered input after readDisable(false).
  event::TimerPtr resume_timer_;
};

}  // namespace modgate::tls
