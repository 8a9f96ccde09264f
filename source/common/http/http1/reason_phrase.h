#pragma once

#include <string_view>

namespace modgate::http::http1 {

// The reason phrase for a status code ("OK" for 200). Unknown codes get an
// empty phrase, which RFC 9112 4 allows.
std::string_view reasonPhrase(int status);

}  // namespace modgate::http::http1
