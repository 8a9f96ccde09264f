#include "source/admin/query_params.h"

#include "absl/strings/ascii.h"

namespace modgate::admin {
namespace {

std::string decode(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (c == '+') {
      out.push_back(' ');
    } else if (c == '%' && i + 2 < text.size() && absl::ascii_isxdigit(text[i + 1]) &&
               absl::ascii_isxdigit(text[i + 2])) {
      out.push_back(static_cast<char>(std::stoi(std::string(text.substr(i + 1, 2)), nullptr, 16)));
      i += 2;
    } else {
      out.push_back(c);
    }
  }
  return out;
}

}  // namespace

std::vector<std::pair<std::string, std::string>> parseQuery(std::string_view query) {
  std::vector<std::pair<std::string, std::string>> pairs;
  while (!query.empty()) {
    size_t amp = query.find('&');
    std::string_view pair = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view() : query.substr(amp + 1);
    if (pair.empty()) continue;
    size_t eq = pair.find('=');
    if (eq == std::string_view::npos) {
      pairs.emplace_back(decode(pair), "");
    } else {
      pairs.emplace_back(decode(pair.substr(0, eq)), decode(pair.substr(eq + 1)));
    }
  }
  return pairs;
}

std::string queryValue(std::string_view query, std::string_view name) {
  for (auto& [key, value] : parseQuery(query)) {
    if (key == name) return value;
  }
  return "";
}

}  // namespace modgate::admin
