#include "source/config/proxy_list.h"

#include "absl/strings/str_cat.h"
#include "source/config/upstream_url.h"

namespace modgate::config {

absl::StatusOr<std::vector<ProxyListEntry>> ParseProxyList(absl::string_view list) {
  std::vector<ProxyListEntry> entries;
  if (list.empty()) return absl::InvalidArgumentError("empty proxy list");
  size_t start = 0;
  while (true) {
    size_t end = list.find_first_of(",|", start);
    absl::string_view url = list.substr(start, end == absl::string_view::npos ? end : end - start);
    size_t position = entries.size() + 1;
    if (url.empty()) {
      return absl::InvalidArgumentError(
          absl::StrCat("entry ", position, " of \"", list, "\" is empty"));
    }
    if (url == "direct" || url == "off") {
      return absl::InvalidArgumentError(
          absl::StrCat("\"", url,
                       "\" is not supported: modgate only forwards to other module proxies and "
                       "cannot fetch from version control; list proxy URLs only"));
    }
    absl::StatusOr<UpstreamUrl> parsed = ParseEndpointUrl(url);
    if (!parsed.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat("entry ", position, ": ", parsed.status().message()));
    }
    ProxyListEntry entry{std::string(url)};
    if (end == absl::string_view::npos) {
      entries.push_back(std::move(entry));
      return entries;
    }
    entry.on = list[end] == ',' ? v1::FallbackStep::NOT_FOUND : v1::FallbackStep::ANY_ERROR;
    entries.push_back(std::move(entry));
    start = end + 1;
  }
}

void ApplyProxyList(const std::vector<ProxyListEntry>& entries, v1::Bootstrap& bootstrap) {
  bootstrap.clear_clusters();
  bootstrap.clear_routes();
  for (size_t i = 0; i < entries.size(); ++i) {
    v1::Cluster* cluster = bootstrap.add_clusters();
    cluster->set_name(absl::StrCat("upstream", i));
    cluster->add_endpoints()->set_url(entries[i].url);
  }
  if (entries.empty()) return;
  v1::Route* route = bootstrap.add_routes();
  route->set_name("upstream");
  if (entries.size() == 1) {
    route->set_cluster(bootstrap.clusters(0).name());
    return;
  }
  for (size_t i = 0; i < entries.size(); ++i) {
    v1::FallbackStep* step = route->mutable_fallback()->add_steps();
    step->set_cluster(bootstrap.clusters(static_cast<int>(i)).name());
    step->set_on(entries[i].on);
  }
}

}  // namespace modgate::config
