#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <vector>

namespace modgate::upstream {

// Earliest-deadline-first scheduling over entries whose weights may change
// between picks, as Envoy's weighted least request uses it. An entry of
// weight w is due 1/w after it was last picked; each pick takes the entry due
// first (ties in insertion order), advances the clock to its deadline and
// schedules it again with its weight as of now. With fixed weights each entry
// gets a share of picks proportional to its weight.
//
// O(log entries) per pick, and no allocation after construction.
class EdfScheduler {
 public:
  // `weight_of(i)` must be positive for every i in [0, size).
  template <typename WeightFn>
  EdfScheduler(size_t size, WeightFn weight_of) {
    heap_.reserve(size);
    for (size_t i = 0; i < size; ++i) {
      push(i, weight_of(i));
    }
  }

  // The next entry; the scheduler must not be empty.
  template <typename WeightFn>
  size_t pick(WeightFn weight_of) {
    std::pop_heap(heap_.begin(), heap_.end(), Later());
    const Entry due = heap_.back();
    heap_.pop_back();
    now_ = due.deadline;
    push(due.index, weight_of(due.index));
    return due.index;
  }

 private:
  struct Entry {
    double deadline;
    uint64_t order;
    size_t index;
  };

  // Orders the heap so its front is the earliest deadline, then oldest entry.
  struct Later {
    bool operator()(const Entry& a, const Entry& b) const {
      return a.deadline != b.deadline ? a.deadline > b.deadline : a.order > b.order;
    }
  };

  void push(size_t index, double weight) {
    heap_.push_back(Entry{now_ + 1.0 / weight, next_order_++, index});
    std::push_heap(heap_.begin(), heap_.end(), Later());
  }

  std::vector<Entry> heap_;
  double now_ = 0.0;
  uint64_t next_order_ = 0;
};

}  // namespace modgate::upstream
