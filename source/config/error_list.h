#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace modgate::config {

// Collects configuration errors, each tied to a field path such as
// "clusters[2].endpoints[0].url" and, when the text came from a file, a line.
// Loading and validation keep going after the first problem so that a user
// fixing a config sees several mistakes per run, not one.
class ErrorList {
 public:
  // How many errors ToStatus() spells out; the rest are only counted, so a
  // badly broken file does not produce pages of output.
  static constexpr size_t kMaxReported = 10;

  // `line` is 1-based; 0 or less means unknown. `path` may be empty for
  // errors about the whole document.
  void Add(absl::string_view path, absl::string_view message, int line = 0);

  bool empty() const { return errors_.empty(); }
  size_t size() const { return errors_.size(); }
  const std::vector<std::string>& errors() const { return errors_; }

  // OK when empty; otherwise InvalidArgument whose message holds the first
  // kMaxReported errors, one per line, formatted "line 14: a.b[2].c: message".
  absl::Status ToStatus() const;

 private:
  std::vector<std::string> errors_;
};

// Prefixes every line of `status`'s message with "<source>: " (the way
// compilers name the file on each diagnostic). OK passes through.
absl::Status PrefixLines(const absl::Status& status, absl::string_view source);

}  // namespace modgate::config
