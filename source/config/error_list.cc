#include "source/config/error_list.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"

namespace modgate::config {

void ErrorList::Add(absl::string_view path, absl::string_view message, int line) {
  std::string text;
  if (line > 0) absl::StrAppend(&text, "line ", line, ": ");
  if (!path.empty()) absl::StrAppend(&text, path, ": ");
  absl::StrAppend(&text, message);
  errors_.push_back(std::move(text));
}

absl::Status ErrorList::ToStatus() const {
  if (errors_.empty()) return absl::OkStatus();
  std::vector<absl::string_view> shown(errors_.begin(),
                                       errors_.begin() + std::min(errors_.size(), kMaxReported));
  std::string message = absl::StrJoin(shown, "\n");
  if (errors_.size() > kMaxReported) {
    absl::StrAppend(&message, "\n(and ", errors_.size() - kMaxReported, " more errors)");
  }
  return absl::InvalidArgumentError(message);
}

absl::Status PrefixLines(const absl::Status& status, absl::string_view source) {
  if (status.ok()) return status;
  std::vector<std::string> lines;
  for (absl::string_view line : absl::StrSplit(status.message(), '\n')) {
    lines.push_back(absl::StrCat(source, ": ", line));
  }
  return absl::Status(status.code(), absl::StrJoin(lines, "\n"));
}

}  // namespace modgate::config
