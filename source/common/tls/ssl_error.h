#pragma once

#include <string>

namespace modgate::tls {

// The oldest error on this thread's BoringSSL error queue as text ("unknown
// error" when empty), clearing the queue so the next failure reads its own.
std::string takeSslError();

}  // namespace modgate::tls
