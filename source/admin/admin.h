#pragma once

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "google/protobuf/message.h"
#include "source/common/http/filter.h"

namespace modgate::admin {

// The admin endpoint table. Handlers run on the admin dispatcher (the main
// thread), never on a worker.
class Admin : public http::FilterChainFactory {
 public:
  struct Response {
    int status = 200;
    std::string content_type = "text/plain; charset=utf-8";
    std::string body;
    std::string allow;  // for 405: the method that would work
  };
  // A JSON body from its admin proto (api/modgate/admin/v1/), printed by
  // json::ToJson: every JSON answer has a schema and one encoder.
  static Response jsonResponse(const google::protobuf::Message& body, int status = 200);

  // `query` is the raw text after '?', or empty.
  using Handler = std::function<Response(std::string_view query)>;

  // `mutating` handlers answer only POST (so a stray GET from a browser or
  // a crawler never drains or reloads the server); the others GET/HEAD. A
  // path may have one of each.
  void addHandler(std::string path, std::string help, bool mutating, Handler handler);

  // Builds the response for `method` + `target`.
  Response handle(std::string_view method, std::string_view target) const;

  // http::FilterChainFactory
  void createFilterChain(std::vector<http::StreamFilterPtr>& chain) override;

 private:
  struct Entry {
    std::string help;
    Handler handler;
  };
  // A path may answer GET (reading) and POST (changing) with two handlers.
  struct Methods {
    std::optional<Entry> get;
    std::optional<Entry> post;
  };
  std::map<std::string, Methods, std::less<>> handlers_;
};

}  // namespace modgate::admin
