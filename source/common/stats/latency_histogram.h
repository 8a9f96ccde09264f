#pragma once

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

namespace modgate::stats {

// Latency histograms with fixed buckets, written without locks and merged
// at scrape. prometheus-cpp's Histogram takes a mutex per observation; here
// a worker's own histograms see only that worker's relaxed atomic adds (no
// contention), and the admin thread reads them when Prometheus scrapes.

// Upper bounds in seconds: from a warm hit over loopback (well under a
// millisecond) to a cold .zip through a slow origin (tens of seconds).
inline constexpr std::array<double, 16> kLatencyBucketsSeconds = {
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60};

class LatencyHistogram {
 public:
  static constexpr size_t kBuckets = kLatencyBucketsSeconds.size() + 1;  // + the +Inf bucket

  struct Snapshot {
    std::array<uint64_t, kBuckets> buckets{};  // per bucket, not cumulative
    uint64_t count = 0;
    uint64_t sum_ns = 0;
    void add(const Snapshot& other);
  };

  void record(std::chrono::nanoseconds duration);
  Snapshot snapshot() const;

 private:
  std::array<std::atomic<uint64_t>, kBuckets> buckets_{};
  std::atomic<uint64_t> count_{0};
  std::atomic<uint64_t> sum_ns_{0};
};

// The "# HELP"/"# TYPE" head of a histogram family in the text format.
void appendHistogramHead(std::string& out, std::string_view name, std::string_view help);
// One series: cumulative _bucket{..., le} lines, _sum (seconds) and _count.
// `labels` is `key="value",...` without braces (may be empty).
void appendHistogramSeries(std::string& out, std::string_view name, std::string_view labels,
                           const LatencyHistogram::Snapshot& snapshot);

}  // namespace modgate::stats
