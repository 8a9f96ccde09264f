#include "source/upstream/origin.h"

#include "absl/strings/str_cat.h"

namespace modgate::upstream {

std::string Origin::key() const { return absl::StrCat(scheme, "://", host, ":", port); }

std::string Origin::authority() const {
  Url url;
  url.scheme = scheme;
  url.host = host;
  url.port = port;
  return url.authority();
}

}  // namespace modgate::upstream
