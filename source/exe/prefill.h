#pragma once

#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace modgate::exe {

// One module version to fetch, with the go.sum hashes to check it against
// when the list came from a go.sum ("" = not checked).
struct PrefillItem {
  std::string module;
  std::string version;
  std::string zip_hash;  // "h1:..." of the zip
  std::string mod_hash;  // "h1:..." of the go.mod
  // A go.sum names some versions only for their go.mod (modules of the
  // graph whose code the build does not need): fetch .info and .mod only.
  bool mod_only = false;
};

// The items of a go.sum (zip and /go.mod lines merged), a go.mod's require
// directives, or a list of "module@version" / "module version" lines ('#'
// comments, blank lines). Errors name the line.
absl::StatusOr<std::vector<PrefillItem>> ParseGoSum(absl::string_view text);
absl::StatusOr<std::vector<PrefillItem>> ParseGoModRequires(absl::string_view text);
absl::StatusOr<std::vector<PrefillItem>> ParseModuleList(absl::string_view text);

struct PrefillOptions {
  // Where a modgate serves the cache to fill: host:port of a listener, and
  // its admin (to purge what fails verification).
  std::string proxy_address;
  std::string admin_address;
  int parallel = 4;
  // The checksum database (its name, "sum.golang.org") whose lookup and
  // tiles are fetched for each module version, so that an export of the
  // cache verifies offline; "" = none. Modules matching the GOPRIVATE-style
  // `no_sumdb` globs are skipped, as the go command skips them.
  std::string sumdb;
  std::string no_sumdb;
  // Progress bar (done/total, bytes, rate, ETA) when stderr is a terminal;
  // one line per module version otherwise.
  bool tty = false;
};

// Fetches each item's .info, .mod and .zip through the proxy (so routes,
// upstreams, single flight and checksum verification apply, and the cache
// is filled as by any client), checking each against its go.sum hashes,
// then the checksum database's lookup and tiles for it (options.sumdb). A
// module version that fails verification is purged again. Prints a summary;
// returns the number of failed items.
int prefill(const std::vector<PrefillItem>& items, const PrefillOptions& options);

}  // namespace modgate::exe
