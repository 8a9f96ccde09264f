#pragma once

#include <string>

namespace modgate::exe {

struct AdminReply {
  int status = 0;  // 0: no answer (the error is in body)
  std::string body;
};

// One blocking HTTP/1.1 request to a modgate admin address ("host:port",
// "[v6]:port"), for command-line tools; never used by the server itself.
AdminReply adminRequest(const std::string& address, const std::string& method,
                        const std::string& path);

// modgate verify-cache: POST /verify_cache on `address`, then GET it until
// the run is done; prints the report. Exit status: 0 all verified, 1 some
// entries were removed or could not be verified, 2 no answer.
int runVerifyCache(const std::string& address);

}  // namespace modgate::exe
