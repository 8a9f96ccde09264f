#include "source/filters/goproxy/disk_backlog.h"

#include <vector>

namespace modgate::filters::goproxy {

void DiskBacklog::overBudget(Reader& crossing) {
  if (telling_) return;
  telling_ = true;
  // Readers leave the set as they pause: walk a copy, and skip any that
  // left meanwhile (never one that is gone).
  const std::vector<Reader*> readers(readers_.begin(), readers_.end());
  for (Reader* reader : readers) {
    if (reader != &crossing && readers_.contains(reader)) reader->onBacklogOverBudget();
  }
  telling_ = false;
}

}  // namespace modgate::filters::goproxy
