#include "source/canary/traffic_split.h"

#include <algorithm>

namespace modgate::canary {
namespace {

bool equalsIgnoreAsciiCase(std::string_view text, std::string_view lower) {
  if (text.size() != lower.size()) return false;
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    if (c != lower[i]) return false;
  }
  return true;
}

std::string_view trimSpaces(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) text.remove_suffix(1);
  return text;
}

}  // namespace

std::string_view sideName(Side side) { return side == Side::kCanary ? "canary" : "stable"; }

std::optional<Side> parsePin(std::string_view header_value) {
  std::string_view value = trimSpaces(header_value);
  if (equalsIgnoreAsciiCase(value, "stable")) return Side::kStable;
  if (equalsIgnoreAsciiCase(value, "canary")) return Side::kCanary;
  return std::nullopt;
}

uint32_t splitBucket(uint64_t client_hash) {
  // Multiply-high maps the hash onto [0, kSplitBuckets) with a bias of at
  // most kSplitBuckets / 2^64, where `%` would need a division.
  return static_cast<uint32_t>((static_cast<unsigned __int128>(client_hash) * kSplitBuckets) >> 64);
}

Side choose(uint64_t client_hash, uint32_t canary_weight_percent, std::optional<Side> pin) {
  if (pin.has_value()) return *pin;
  uint32_t threshold = std::min<uint32_t>(canary_weight_percent, 100) * (kSplitBuckets / 100);
  return splitBucket(client_hash) < threshold ? Side::kCanary : Side::kStable;
}

}  // namespace modgate::canary
