#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace modgate::admin {

// The name=value pairs of a URL query in order, percent-decoded, '+' as a
// space (the form encoding curl -d and browsers send). A pair without '='
// has an empty value.
std::vector<std::pair<std::string, std::string>> parseQuery(std::string_view query);

// The first value of `name`, or "" when absent.
std::string queryValue(std::string_view query, std::string_view name);

}  // namespace modgate::admin
