#include "source/common/grpc/service_table.h"

#include "source/common/grpc/server_filter.h"

namespace modgate::grpc {

void ServiceTable::addMethod(std::string path, MethodHandlerFactory factory) {
  methods_[std::move(path)] = std::move(factory);
}

const MethodHandlerFactory* ServiceTable::find(std::string_view path) const {
  auto it = methods_.find(path);
  return it == methods_.end() ? nullptr : &it->second;
}

void ServiceTable::createFilterChain(std::vector<http::StreamFilterPtr>& chain) {
  chain.push_back(std::make_unique<ServerFilter>(*this));
}

}  // namespace modgate::grpc
