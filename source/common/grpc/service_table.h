#pragma once

#include <map>
#include <string>
#include <string_view>

#include "source/common/grpc/framing.h"
#include "source/common/grpc/server_stream.h"
#include "source/common/http/filter.h"

namespace modgate::grpc {

// The gRPC methods one listener serves, by HTTP/2 path
// ("/envoy.service.discovery.v3.AggregatedDiscoveryService/DeltaAggregatedResources").
// As the listener's filter chain factory it gives each stream a
// ServerFilter, which speaks gRPC's HTTP/2 mapping and calls the method's
// handler. Built before the listener starts; read-only afterwards.
class ServiceTable : public http::FilterChainFactory {
 public:
  explicit ServiceTable(uint32_t max_message_bytes = kDefaultMaxMessageBytes)
      : max_message_bytes_(max_message_bytes) {}

  void addMethod(std::string path, MethodHandlerFactory factory);
  // nullptr for an unknown path.
  const MethodHandlerFactory* find(std::string_view path) const;
  uint32_t maxMessageBytes() const { return max_message_bytes_; }

  // http::FilterChainFactory
  void createFilterChain(std::vector<http::StreamFilterPtr>& chain) override;

 private:
  const uint32_t max_message_bytes_;
  std::map<std::string, MethodHandlerFactory, std::less<>> methods_;
};

}  // namespace modgate::grpc
