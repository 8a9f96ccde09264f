#include "source/common/tls/ssl_error.h"

#include "source/common/tls/boringssl.h"

namespace modgate::tls {

std::string takeSslError() {
  uint32_t code = ERR_get_error();
  if (code == 0) return "unknown error";
  char text[256];
  ERR_error_string_n(code, text, sizeof(text));
  ERR_clear_error();
  return text;
}

}  // namespace modgate::tls
