#include "source/admin/admin.h"

#include "absl/strings/str_cat.h"
#include "source/common/json/proto_json.h"

namespace modgate::admin {
namespace {

// The only filter of the admin listener: answers from the handler table.
class AdminFilter : public http::StreamFilter {
 public:
  explicit AdminFilter(const Admin& admin) : admin_(admin) {}

  void setCallbacks(http::StreamFilterCallbacks& callbacks) override { callbacks_ = &callbacks; }

  http::FilterHeadersStatus decodeHeaders(http::RequestHeaders& headers, bool) override {
    Admin::Response response = admin_.handle(headers.method, headers.path);
    http::ResponseHeaders out;
    out.status = response.status;
    out.headers.add("content-type", response.content_type);
    out.headers.add("content-length", std::to_string(response.body.size()));
    out.headers.add("cache-control", "no-store");
    if (response.status == 405) out.headers.add("allow", response.allow);
    callbacks_->encodeHeaders(out, response.body.empty());
    if (!response.body.empty()) {
      buffer::Buffer body;
      body.add(response.body);
      callbacks_->encodeData(body, true);
    }
    return http::FilterHeadersStatus::kStopIteration;
  }

 private:
  const Admin& admin_;
  http::StreamFilterCallbacks* callbacks_ = nullptr;
};

}  // namespace

Admin::Response Admin::jsonResponse(const google::protobuf::Message& body, int status) {
  return Response{status, "application/json", json::ToJson(body) + "\n"};
}

void Admin::addHandler(std::string path, std::string help, bool mutating, Handler handler) {
  Methods& methods = handlers_[std::move(path)];
  (mutating ? methods.post : methods.get) = Entry{std::move(help), std::move(handler)};
}

Admin::Response Admin::handle(std::string_view method, std::string_view target) const {
  size_t question = target.find('?');
  std::string_view path = target.substr(0, question);
  std::string_view query =
      question == std::string_view::npos ? std::string_view() : target.substr(question + 1);
  if (path == "/") {
    std::string body = "modgate admin\n\n";
    for (const auto& [name, methods] : handlers_) {
      if (methods.get) absl::StrAppend(&body, "GET  ", name, "  ", methods.get->help, "\n");
      if (methods.post) absl::StrAppend(&body, "POST ", name, "  ", methods.post->help, "\n");
    }
    return Response{200, "text/plain; charset=utf-8", body};
  }
  auto it = handlers_.find(path);
  if (it == handlers_.end()) {
    return Response{404, "text/plain; charset=utf-8", "not found: see / for the admin endpoints\n"};
  }
  const Methods& methods = it->second;
  const std::optional<Entry>& entry =
      method == "POST" ? methods.post
                       : (method == "GET" || method == "HEAD" ? methods.get : std::nullopt);
  if (!entry) {
    const char* allowed = methods.get && methods.post ? "GET, HEAD, POST"
                          : methods.post              ? "POST"
                                                      : "GET, HEAD";
    return Response{405, "text/plain; charset=utf-8",
                    absl::StrCat(std::string(path), " answers ", allowed, " only\n"), allowed};
  }
  return entry->handler(query);
}

void Admin::createFilterChain(std::vector<http::StreamFilterPtr>& chain) {
  chain.push_back(std::make_unique<AdminFilter>(*this));
}

}  // namespace modgate::admin
