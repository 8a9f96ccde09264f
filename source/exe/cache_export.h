#pragma once

#include <string>

namespace modgate::exe {

struct ExportOptions {
  // The cache directory (cache.dir of the config) and where the tree goes.
  std::string cache_dir;
  std::string out_dir;
  // GOPRIVATE-style globs ("github.com/acme/*,golang.org/x"): only modules
  // they match; "" = every module.
  std::string modules;
};

// modgate export DIR: the cached modules as a GOPROXY file tree that
// `GOPROXY=file:///DIR go mod download` (or a cluster endpoint file:///DIR)
// accepts: each cached .info, .mod and .zip, a @v/list of the versions
// exported (not the upstream's list, which may name versions that are not
// here), @latest when its version is here, and the checksum database's
// cached lookups, tiles and latest with a `supported` file per database, so
// the go command verifies offline.
//
// Reads entry files only (never the index or the lock), so it works beside
// a running modgate on the same directory; an entry evicted meanwhile is
// skipped. Prints a summary; exit status 0, or 1 naming what failed.
int runExport(const ExportOptions& options);

}  // namespace modgate::exe
