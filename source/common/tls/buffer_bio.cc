#include "source/common/tls/buffer_bio.h"

#include "source/common/tls/boringssl.h"

namespace modgate::tls {
namespace {

int bufferWrite(BIO* bio, const char* data, int length) {
  if (length <= 0) return 0;
  static_cast<buffer::Buffer*>(BIO_get_data(bio))->add(data, static_cast<size_t>(length));
  return length;
}

long bufferCtrl(BIO*, int command, long, void*) {
  // A flush succeeds at once; nothing is ever pending (BIO_CTRL_PENDING,
  // BIO_CTRL_WPENDING: every byte written is in the buffer already), and
  // nothing else is supported.
  return command == BIO_CTRL_FLUSH ? 1 : 0;
}

const BIO_METHOD* bufferWriteMethod() {
  // Created once, never freed: BIOs made from it may live until exit.
  static const BIO_METHOD* const method = [] {
    BIO_METHOD* m = BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK, "modgate buffer");
    BIO_meth_set_write(m, &bufferWrite);
    BIO_meth_set_ctrl(m, &bufferCtrl);
    return m;
  }();
  return method;
}

}  // namespace

bio_st* newBufferWriteBio(buffer::Buffer& out) {
  BIO* bio = BIO_new(bufferWriteMethod());
  BIO_set_data(bio, &out);
  BIO_set_init(bio, 1);
  return bio;
}

}  // namespace modgate::tls
