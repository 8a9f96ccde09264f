#pragma once

#include <memory>
#include <mutex>
#include <string>
#include <string_view>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "source/cache/inflight.h"

namespace modgate::cache {

// Single flight: at most one upstream fetch per key at a time, process-wide.
// A request that misses the cache joins the table; the first one for a key
// becomes the fetcher, the others wait on the same Inflight. When the fetch
// ends (entry indexed, or failed) the key is forgotten, so the next request
// looks in the cache again, and a join after that starts a new fetch.
//
// Thread-safe. The table keeps each Inflight alive until its fetch ends,
// independently of waiters; Inflights may outlive the table.
class InflightTable {
 public:
  InflightTable();
  InflightTable(const InflightTable&) = delete;
  InflightTable& operator=(const InflightTable&) = delete;

  // The fetch for `key`; `created` is true for the caller that must run it.
  std::shared_ptr<Inflight> join(std::string_view key, bool& created);
  // The fetch for `key` if one is running, else nullptr.
  std::shared_ptr<Inflight> find(std::string_view key) const;
  size_t size() const;

 private:
  struct Registry {
    mutable std::mutex mu;
    absl::flat_hash_map<std::string, std::shared_ptr<Inflight>> inflights ABSL_GUARDED_BY(mu);
  };
  // Shared with the Inflights' done callbacks, which may run after the table
  // is gone.
  std::shared_ptr<Registry> registry_;
};

}  // namespace modgate::cache
