#include "source/config/default_config.h"

namespace modgate::config {

std::string_view DefaultConfigYaml() {
  static constexpr std::string_view kYaml = R"yaml(# modgate's built-in configuration.
listeners:
  - name: main
    address: 127.0.0.1:8080
admin:
  address: 127.0.0.1:9901
cache:
  # dir: unset = $XDG_CACHE_HOME/modgate, else ~/.cache/modgate
  max_bytes: 10737418240  # 10 GiB
clusters:
  - name: proxy_golang_org
    endpoints:
      - url: https://proxy.golang.org
routes:
  - name: default
    cluster: proxy_golang_org
sumdbs:
  # No url: fetched as /sumdb/sum.golang.org/... through proxy.golang.org.
  - name: sum.golang.org
log_level: info
)yaml";
  return kYaml;
}

}  // namespace modgate::config
