#include "source/common/tls/tls_connection.h"

#include <algorithm>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "source/common/tls/boringssl.h"
#include "source/common/tls/buffer_bio.h"
#include "source/common/tls/certificate_names.h"

namespace modgate::tls {
namespace {

// Plaintext decrypted per delivery to the callbacks.
constexpr size_t kReadChunk = 16 * 1024;
constexpr size_t kMaxDeliver = 64 * 1024;
// The most plaintext one TLS record carries (RFC 8446 5.1).
constexpr size_t kMaxRecordPlaintext = 16 * 1024;
// Slices shorter than this are gathered into a record with their
// neighbours; longer ones are encrypted in place.
constexpr size_t kSmallSlice = 4 * 1024;
constexpr int kMaxGatheredSlices = 16;

std::string describeSslError(ssl_st* ssl, int rc) {
  long verify = SSL_get_verify_result(ssl);
  if (verify != X509_V_OK) {
    return absl::StrCat("certificate verify failed: ", X509_verify_cert_error_string(verify));
  }
  uint32_t code = ERR_get_error();
  ERR_clear_error();
  if (code != 0) {
    char text[256];
    ERR_error_string_n(code, text, sizeof(text));
    return text;
  }
  return absl::StrCat("TLS error ", SSL_get_error(ssl, rc));
}

std::shared_ptr<const network::TlsInfo> describeSession(ssl_st* ssl) {
  auto info = std::make_shared<network::TlsInfo>();
  info->version = SSL_get_version(ssl);
  if (const SSL_CIPHER* cipher = SSL_get_current_cipher(ssl); cipher != nullptr) {
    info->cipher = SSL_CIPHER_standard_name(cipher);
  }
  const uint8_t* alpn = nullptr;
  unsigned alpn_length = 0;
  SSL_get0_alpn_selected(ssl, &alpn, &alpn_length);
  if (alpn != nullptr) info->alpn.assign(reinterpret_cast<const char*>(alpn), alpn_length);
  if (const char* name = SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name); name != nullptr) {
    info->server_name = name;
  }
  info->session_reused = SSL_session_reused(ssl) != 0;
  // A server only keeps a client certificate that verified (or the
  // handshake failed); a resumed session carries the original one.
  if (SSL_is_server(ssl)) {
    if (X509* peer = SSL_get_peer_certificate(ssl); peer != nullptr) {
      if (SSL_get_verify_result(ssl) == X509_V_OK) {
        CertificateNames names = namesOf(peer);
        info->peer_certificate = true;
        info->peer_subject = std::move(names.subject);
        info->peer_uri_sans = std::move(names.uri);
        info->peer_dns_sans = std::move(names.dns);
      }
      X509_free(peer);
    }
  }
  return info;
}

}  // namespace

TlsConnection::TlsConnection(SslPtr ssl, network::ConnectionPtr transport, bool transport_connected,
                             std::shared_ptr<const void> owner)
    : owner_(std::move(owner)), ssl_(std::move(ssl)), transport_(std::move(transport)) {
  network_in_ = BIO_new(BIO_s_mem());
  network_out_ = newBufferWriteBio(ciphertext_out_);
  // An empty input BIO means "retry later", not EOF.
  BIO_set_mem_eof_return(network_in_, -1);
  SSL_set_bio(ssl_.get(), network_in_, network_out_);  // takes ownership
  transport_->setCallbacks(*this);
  resume_timer_ = transport_->dispatcher().createTimer([this] {
    switch (state_) {
      case State::kHandshaking:
        doHandshake();
        break;
      case State::kOpen:
        readPlaintext();
        break;
      default:
        break;
    }
  });
  if (transport_connected) {
    transport_connected_ = true;
    state_ = State::kHandshaking;
    // Start after the owner had a chance to set callbacks.
    resume_timer_->enableTimer(std::chrono::milliseconds(0));
  }
}

TlsConnection::~TlsConnection() = default;

std::string_view TlsConnection::negotiatedProtocol() const {
  const uint8_t* data = nullptr;
  unsigned length = 0;
  SSL_get0_alpn_selected(ssl_.get(), &data, &length);
  if (data == nullptr) return {};
  return std::string_view(reinterpret_cast<const char*>(data), length);
}

void TlsConnection::onData(buffer::Buffer& data) {
  while (data.length() > 0) {
    iovec vec;
    data.peek(&vec, 1, data.length());
    BIO_write(network_in_, vec.iov_base, static_cast<int>(vec.iov_len));
    data.drain(vec.iov_len);
  }
  if (state_ == State::kHandshaking) {
    doHandshake();
  } else if (state_ == State::kOpen) {
    readPlaintext();
  }
}

void TlsConnection::onEvent(network::ConnectionEvent event) {
  switch (event) {
    case network::ConnectionEvent::kConnected:
      if (state_ != State::kConnecting) return;
      transport_connected_ = true;
      state_ = State::kHandshaking;
      doHandshake();
      return;
    case network::ConnectionEvent::kRemoteClose:
    case network::ConnectionEvent::kLocalClose:
      if (state_ == State::kClosed) return;
      if (state_ == State::kClosing) {
        finishClose(network::ConnectionEvent::kLocalClose);
        return;
      }
      if (state_ == State::kHandshaking && handshake_error_.empty()) {
        handshake_error_ = "connection closed during TLS handshake";
      }
      if (state_ == State::kOpen) {
        // Deliver what is decrypted or decryptable first; the close follows
        // once the reader took it (it may have reads disabled).
        peer_closed_ = true;
        readPlaintext();
        return;
      }
      finishClose(network::ConnectionEvent::kRemoteClose);
      return;
  }
}

void TlsConnection::onAboveWriteBufferHighWatermark() {
  if (callbacks_ != nullptr) callbacks_->onAboveWriteBufferHighWatermark();
}

void TlsConnection::onBelowWriteBufferLowWatermark() {
  if (callbacks_ != nullptr) callbacks_->onBelowWriteBufferLowWatermark();
}

void TlsConnection::doHandshake() {
  ERR_clear_error();
  int rc = SSL_do_handshake(ssl_.get());
  flushCiphertext();
  if (rc == 1) {
    handshake_done_ = true;
    state_ = State::kOpen;
    tls_info_ = describeSession(ssl_.get());
    if (callbacks_ != nullptr) callbacks_->onEvent(network::ConnectionEvent::kConnected);
    if (state_ != State::kOpen) return;
    encryptPending();
    // Application data may have arrived with the last handshake flight.
    readPlaintext();
    return;
  }
  int error = SSL_get_error(ssl_.get(), rc);
  if (error == SSL_ERROR_WANT_READ || error == SSL_ERROR_WANT_WRITE) return;
  fail(describeSslError(ssl_.get(), rc));
}

void TlsConnection::readPlaintext() {
  bool deliver = plaintext_in_.length() > 0;
  while (state_ == State::kOpen && !read_disabled_) {
    size_t decrypted = 0;
    bool more = false;
    while (decrypted < kMaxDeliver && !peer_closed_) {
      char chunk[kReadChunk];
      ERR_clear_error();
      int n = SSL_read(ssl_.get(), chunk, sizeof(chunk));
      if (n > 0) {
        plaintext_in_.add(chunk, static_cast<size_t>(n));
        decrypted += static_cast<size_t>(n);
        more = true;
        continue;
      }
      more = false;
      int error = SSL_get_error(ssl_.get(), n);
      if (error == SSL_ERROR_WANT_READ || error == SSL_ERROR_WANT_WRITE) break;
      // close_notify (SSL_ERROR_ZERO_RETURN) or a fatal error: either way the
      // stream ends after what was decrypted.
      if (error == SSL_ERROR_SSL && close_detail_.empty()) {
        close_detail_ = describeSslError(ssl_.get(), n);
      }
      peer_closed_ = true;
    }
    flushCiphertext();
    if (decrypted == 0 && !deliver) break;
    deliver = false;
    if (callbacks_ != nullptr && plaintext_in_.length() > 0) callbacks_->onData(plaintext_in_);
    if (!more) break;
  }
  if (state_ == State::kOpen && peer_closed_ && !read_disabled_) {
    finishClose(network::ConnectionEvent::kRemoteClose);
  }
}

void TlsConnection::encryptPending() {
  // One SSL_write is one record. Plaintext comes as slices of any size
  // (HTTP/2: a HEADERS frame, then DATA frames sized to fill a record), so
  // small slices in front are gathered into one record, and a big one is
  // encrypted where it lies: a record per tiny slice would cost a seal and
  // 22 bytes each, and copying every byte into a staging record would cost
  // a pass over the body.
  uint8_t record[kMaxRecordPlaintext];
  iovec vecs[kMaxGatheredSlices];
  while (state_ == State::kOpen && plaintext_out_.length() > 0) {
    const int count =
        std::min(plaintext_out_.peek(vecs, kMaxGatheredSlices,
                                     std::min(plaintext_out_.length(), kMaxRecordPlaintext)),
                 kMaxGatheredSlices);
    const void* bytes = vecs[0].iov_base;
    size_t length = std::min(vecs[0].iov_len, kMaxRecordPlaintext);
    if (length < kSmallSlice && count > 1) {
      size_t gathered = 0;
      for (int i = 0; i < count && gathered < kMaxRecordPlaintext; ++i) {
        if (i > 0 && vecs[i].iov_len >= kSmallSlice) break;
        const size_t take = std::min(vecs[i].iov_len, kMaxRecordPlaintext - gathered);
        memcpy(record + gathered, vecs[i].iov_base, take);
        gathered += take;
      }
      bytes = record;
      length = gathered;
    }
    ERR_clear_error();
    int n = SSL_write(ssl_.get(), bytes, static_cast<int>(length));
    if (n <= 0) {
      // The write BIO never pushes back, so this is fatal: report it from
      // the loop rather than from inside write().
      plaintext_out_.drain(plaintext_out_.length());
      peer_closed_ = true;
      resume_timer_->enableTimer(std::chrono::milliseconds(0));
      break;
    }
    plaintext_out_.drain(static_cast<size_t>(n));
  }
  flushCiphertext();
}

void TlsConnection::flushCiphertext() {
  if (ciphertext_out_.length() == 0) return;
  if (!transport_->isOpen()) {
    ciphertext_out_.drain(ciphertext_out_.length());
    return;
  }
  transport_->write(ciphertext_out_);
}

void TlsConnection::write(buffer::Buffer& data) {
  if (state_ == State::kClosed || state_ == State::kClosing) {
    data.drain(data.length());
    return;
  }
  plaintext_out_.move(data);
  if (state_ == State::kOpen) encryptPending();
}

size_t TlsConnection::bufferedWriteBytes() const {
  return plaintext_out_.length() + transport_->bufferedWriteBytes();
}

void TlsConnection::setWriteBufferWatermarks(size_t low, size_t high) {
  if (transport_->isOpen()) transport_->setWriteBufferWatermarks(low, high);
}

void TlsConnection::readDisable(bool disable) {
  if (state_ == State::kClosed || read_disabled_ == disable) return;
  read_disabled_ = disable;
  transport_->readDisable(disable);
  if (!disable && state_ == State::kOpen &&
      (plaintext_in_.length() > 0 || peer_closed_ || BIO_pending(network_in_) > 0 ||
       SSL_pending(ssl_.get()) > 0)) {
    resume_timer_->enableTimer(std::chrono::milliseconds(0));
  }
}

void TlsConnection::fail(std::string detail) {
  if (!handshake_done_ && handshake_error_.empty()) handshake_error_ = std::move(detail);
  // The alert, if any, is already queued on the transport.
  closeTransport(network::CloseType::kFlushWrite);
  finishClose(network::ConnectionEvent::kRemoteClose);
}

void TlsConnection::close(network::CloseType type) {
  if (state_ == State::kClosed || state_ == State::kClosing) return;
  if (type == network::CloseType::kFlushWrite && state_ == State::kOpen) {
    encryptPending();
    ERR_clear_error();
    SSL_shutdown(ssl_.get());  // queues close_notify
    flushCiphertext();
  }
  state_ = State::kClosing;
  resume_timer_->disableTimer();
  closeTransport(type);
  // The transport reports kLocalClose once flushed (maybe already did).
  if (state_ != State::kClosed && !transport_->isOpen()) {
    finishClose(network::ConnectionEvent::kLocalClose);
  }
}

void TlsConnection::closeTransport(network::CloseType type) {
  // Once only: a second close(kFlushWrite) would cut a flush short.
  if (transport_close_requested_) return;
  transport_close_requested_ = true;
  if (transport_->isOpen()) transport_->close(type);
}

void TlsConnection::finishClose(network::ConnectionEvent event) {
  if (state_ == State::kClosed) return;
  state_ = State::kClosed;
  resume_timer_->disableTimer();
  closeTransport(network::CloseType::kNoFlush);
  if (callbacks_ != nullptr) callbacks_->onEvent(event);
}

}  // namespace modgate::tls
