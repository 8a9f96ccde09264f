#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <vector>

#include "source/upstream/load_balancer/host_hash_table.h"
#include "source/upstream/load_balancer/load_balancer.h"
#include "source/upstream/load_balancer/prepared_priority_set.h"

namespace modgate::upstream {

// Builds one level's table from its hosts (never called with none).
using HostHashTableBuilder =
    std::function<std::unique_ptr<const HostHashTable>(const std::vector<HashTableEntry>&)>;

// The machinery ring hash and Maglev share: one table per priority level,
// built once here and shared by every worker's balancer. A request's hash
// (LoadBalancerContext::hashKey(), else a random value) picks the level and
// then the host; retries keep the level and ask the table for alternatives.
// With hash_balance_factor >= 100, bounded loads apply (see BoundedLoad).
std::shared_ptr<const LoadBalancerFactory> createHashingFactory(
    std::shared_ptr<const PreparedPrioritySet> prepared, const HostHashTableBuilder& build_table,
    uint32_t hash_balance_factor);

}  // namespace modgate::upstream
