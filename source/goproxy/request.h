#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <variant>

#include "source/goproxy/tile_path.h"

// The requests a GOPROXY serves, parsed from the raw HTTP request target and
// validated as strictly as the go command validates what it sends. Everything
// a caller uses afterwards (the upstream path, the cache key) is re-built from
// validated parts, never copied from the input, so two spellings of one
// resource cannot become two cache entries and no input can reach outside the
// cache directory or the upstream's protocol space.
namespace modgate::goproxy {

enum class RequestKind {
  kList,            // $module/@v/list
  kInfo,            // $module/@v/$version.info
  kMod,             // $module/@v/$version.mod
  kZip,             // $module/@v/$version.zip
  kLatest,          // $module/@latest
  kSumdbSupported,  // sumdb/$name/supported
  kSumdbLatest,     // sumdb/$name/latest
  kSumdbLookup,     // sumdb/$name/lookup/$module@$version
  kSumdbTile,       // sumdb/$name/tile/$H/$L/$N[.p/$W]
};

struct Request {
  RequestKind kind = RequestKind::kList;
  // Decoded module path, e.g. "github.com/BurntSushi/toml"; for kSumdbLookup
  // the looked-up module; empty for the other sumdb kinds.
  std::string module;
  // Its canonical escaped form, e.g. "github.com/!burnt!sushi/toml".
  std::string escaped_module;
  // Decoded version (kInfo/kMod/kZip, kSumdbLookup), e.g. "v1.2.0", "master".
  std::string version;
  std::string escaped_version;
  // The version is canonical (module.CanonicalVersion, so "+incompatible" is
  // allowed) and agrees with the module path's major version (module.Check).
  // Always true for kMod, kZip and kSumdbLookup; for kInfo it tells a fixed
  // version (immutable answer) from a query such as "master" or "v1.2".
  bool canonical_version = false;
  // kSumdb*: the database name, e.g. "sum.golang.org".
  std::string sumdb_name;
  // kSumdb*: the part after "/sumdb/<name>/", re-built canonically:
  // "supported", "latest", "lookup/github.com/!burnt!sushi/toml@v1.2.0",
  // "tile/8/0/000.p/46".
  std::string sumdb_path;
  // kSumdbTile: the parsed tile.
  Tile tile;
  // The absolute path to ask the upstream for, percent-encoded, e.g.
  // "/github.com/!burnt!sushi/toml/@v/v1.2.0.zip",
  // "/sumdb/sum.golang.org/tile/8/0/000.p/46".
  std::string upstream_path;
  // A relative, file-system-safe key naming the resource (percent-encoded like
  // upstream_path, without the leading '/'; no "." or ".." elements, none
  // longer than 255 bytes), e.g. "github.com/!burnt!sushi/toml/@v/v1.2.0.zip",
  // "sumdb/sum.golang.org/tile/8/0/000.p/46". Distinct requests have distinct
  // keys, and no key is a directory prefix of another key.
  std::string cache_key;

  // Whether the answer can never change: .mod, .zip, .info for a canonical
  // version, sumdb lookups and tiles. list, @latest, query .info, sumdb
  // latest and supported can.
  bool immutable() const;
};

// Why a request target was refused.
struct RequestError {
  int status;          // HTTP status: 400 (malformed), 404 (no such endpoint), 414 (too long)
  std::string reason;  // one line of text; the go command prints it to the user
};

// The longest request target ParseRequest accepts (414 beyond).
inline constexpr size_t kMaxRequestTargetLength = 2048;

// Parses `target`, the raw request-target (path plus optional "?query") as
// received. Percent-escapes are decoded exactly once ('+' stays '+'); a query
// is ignored (the protocol has none). Malformed input (bad escapes, %2F,
// control characters, backslashes, empty/"."/".." elements, invalid or
// non-canonically escaped module paths and versions, non-canonical versions
// for .mod/.zip and sumdb lookups, malformed tile paths or sumdb names) is a
// 400 with a Go-style reason such as
// `invalid escaped module path "github.com/X/y": ...`; a well-formed path that
// names no endpoint is a 404 "not found".
std::variant<Request, RequestError> ParseRequest(std::string_view target);

// The .mod request that goes with `info`, a .info of a canonical version:
// what ParseRequest gives for "/<module>/@v/<version>.mod", built from the
// parts `info` already validated. nullopt for any other request (a query
// .info such as "master" names no fixed version). The go command asks for a
// version's .mod right after its .info, so a proxy may fetch both at once.
std::optional<Request> ModRequestFor(const Request& info);

}  // namespace modgate::goproxy
