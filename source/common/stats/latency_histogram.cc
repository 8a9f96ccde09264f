#include "source/common/stats/latency_histogram.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace modgate::stats {

void LatencyHistogram::Snapshot::add(const Snapshot& other) {
  for (size_t i = 0; i < kBuckets; ++i) buckets[i] += other.buckets[i];
  count += other.count;
  sum_ns += other.sum_ns;
}

void LatencyHistogram::record(std::chrono::nanoseconds duration) {
  const int64_t ns = std::max<int64_t>(duration.count(), 0);
  const double seconds = static_cast<double>(ns) / 1e9;
  const size_t index =
      std::lower_bound(kLatencyBucketsSeconds.begin(), kLatencyBucketsSeconds.end(), seconds) -
      kLatencyBucketsSeconds.begin();
  buckets_[index].fetch_add(1, std::memory_order_relaxed);
  sum_ns_.fetch_add(static_cast<uint64_t>(ns), std::memory_order_relaxed);
  // Last, so a scrape never sees a count above the buckets' total for long.
  count_.fetch_add(1, std::memory_order_relaxed);
}

LatencyHistogram::Snapshot LatencyHistogram::snapshot() const {
  Snapshot out;
  for (size_t i = 0; i < kBuckets; ++i)
    out.buckets[i] = buckets_[i].load(std::memory_order_relaxed);
  out.sum_ns = sum_ns_.load(std::memory_order_relaxed);
  // Consistent by construction: the count is the buckets' total, whatever
  // a concurrent record() has reached.
  out.count = 0;
  for (uint64_t n : out.buckets) out.count += n;
  return out;
}

void appendHistogramHead(std::string& out, std::string_view name, std::string_view help) {
  out.append("# HELP ").append(name).append(" ").append(help).append("\n");
  out.append("# TYPE ").append(name).append(" histogram\n");
}

void appendHistogramSeries(std::string& out, std::string_view name, std::string_view labels,
                           const LatencyHistogram::Snapshot& snapshot) {
  const std::string prefix = labels.empty() ? "" : absl::StrCat(std::string(labels), ",");
  uint64_t cumulative = 0;
  for (size_t i = 0; i < LatencyHistogram::kBuckets; ++i) {
    cumulative += snapshot.buckets[i];
    std::string le = i < kLatencyBucketsSeconds.size()
                         ? absl::StrFormat("%g", kLatencyBucketsSeconds[i])
                         : std::string("+Inf");
    out.append(name).append("_bucket{").append(prefix).append("le=\"").append(le).append("\"} ");
    absl::StrAppend(&out, cumulative, "\n");
  }
  const std::string braces = labels.empty() ? "" : absl::StrCat("{", std::string(labels), "}");
  out.append(name).append("_sum").append(braces);
  absl::StrAppendFormat(&out, " %.9f\n", static_cast<double>(snapshot.sum_ns) / 1e9);
  out.append(name).append("_count").append(braces);
  absl::StrAppend(&out, " ", cumulative, "\n");
}

}  // namespace modgate::stats
