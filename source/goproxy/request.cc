#include "source/goproxy/request.h"

#include <optional>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "source/goproxy/go_quote.h"
#include "source/goproxy/module_path.h"
#include "source/goproxy/semver.h"
#include "source/goproxy/string_util.h"
#include "source/goproxy/url_path.h"

namespace modgate::goproxy {
namespace {

// Longest single path element; most file systems allow no more.
constexpr size_t kMaxElementLength = 255;

RequestError BadRequest(std::string reason) { return RequestError{400, std::move(reason)}; }
RequestError NotFound() { return RequestError{404, "not found"}; }

// Checks the decoded path for what no endpoint may contain: control
// characters, backslashes, empty, "." and ".." elements, over-long elements.
std::optional<RequestError> CheckDecodedPath(std::string_view path) {
  for (char c : path) {
    const auto b = static_cast<unsigned char>(c);
    if (b < 0x20 || b == 0x7f) return BadRequest("invalid control character in request path");
    if (c == '\\') return BadRequest("invalid backslash in request path");
  }
  // `path` starts with '/'; "/" alone has no elements.
  if (path.size() == 1) return std::nullopt;
  for (std::string_view elem : Split(path.substr(1), '/')) {
    if (elem.empty()) return BadRequest("empty element in request path");
    if (elem == "." || elem == "..") {
      return BadRequest(Concat({"invalid element ", GoQuote(elem), " in request path"}));
    }
    if (elem.size() > kMaxElementLength) return BadRequest("request path element too long");
  }
  return std::nullopt;
}

// Decodes and validates an escaped module path; it must be the one canonical
// escaping of the module path it names.
std::optional<RequestError> ParseModule(std::string_view escaped, Request* req) {
  absl::StatusOr<std::string> module = UnescapePath(escaped);
  if (!module.ok()) return BadRequest(std::string(module.status().message()));
  absl::StatusOr<std::string> canonical = EscapePath(*module);
  if (!canonical.ok()) return BadRequest(std::string(canonical.status().message()));
  if (*canonical != escaped) {
    return BadRequest(Concat({"non-canonical escaped module path ", GoQuote(escaped)}));
  }
  req->module = *std::move(module);
  req->escaped_module = *std::move(canonical);
  return std::nullopt;
}

// Decodes and validates an escaped version the same way.
std::optional<RequestError> ParseVersion(std::string_view escaped, Request* req) {
  absl::StatusOr<std::string> version = UnescapeVersion(escaped);
  if (!version.ok()) return BadRequest(std::string(version.status().message()));
  absl::StatusOr<std::string> canonical = EscapeVersion(*version);
  if (!canonical.ok()) return BadRequest(std::string(canonical.status().message()));
  if (*canonical != escaped) {
    return BadRequest(Concat({"non-canonical escaped version ", GoQuote(escaped)}));
  }
  req->version = *std::move(version);
  req->escaped_version = *std::move(canonical);
  return std::nullopt;
}

bool IsCanonical(std::string_view version) {
  return semver::IsValid(version) && CanonicalVersion(version) == version;
}

// Requires req->version to name one fixed version of req->module, as .mod,
// .zip and sumdb lookups must.
std::optional<RequestError> RequireCanonicalVersion(Request* req) {
  if (!semver::IsValid(req->version)) {
    return BadRequest(
        Concat({req->module, "@", req->version, ": invalid version: not a semantic version"}));
  }
  if (!IsCanonical(req->version)) {
    return BadRequest(Concat({"version ", GoQuote(req->version), " is not canonical"}));
  }
  if (absl::Status s = CheckVersion(req->module, req->version); !s.ok()) {
    return BadRequest(std::string(s.message()));
  }
  req->canonical_version = true;
  return std::nullopt;
}

// $module/@v/list, $module/@v/$version.{info,mod,zip}, $module/@latest.
std::variant<Request, RequestError> ParseModuleRequest(std::string_view path) {
  Request req;
  std::string_view escaped_module;
  std::string_view escaped_version;
  std::string file;  // the file name under $module/ in the protocol
  if (const size_t at_v = path.find("/@v/"); at_v != std::string_view::npos) {
    escaped_module = path.substr(0, at_v);
    const std::string_view name = path.substr(at_v + 4);
    if (name == "list") {
      req.kind = RequestKind::kList;
    } else if (name.ends_with(".info")) {
      req.kind = RequestKind::kInfo;
      escaped_version = name.substr(0, name.size() - 5);
    } else if (name.ends_with(".mod")) {
      req.kind = RequestKind::kMod;
      escaped_version = name.substr(0, name.size() - 4);
    } else if (name.ends_with(".zip")) {
      req.kind = RequestKind::kZip;
      escaped_version = name.substr(0, name.size() - 4);
    } else {
      return NotFound();
    }
    if ((name.find('/') != std::string_view::npos)) return NotFound();
  } else if (ConsumeSuffix(&path, "/@latest")) {
    req.kind = RequestKind::kLatest;
    escaped_module = path;
  } else {
    return NotFound();
  }

  if (auto err = ParseModule(escaped_module, &req)) return *err;
  switch (req.kind) {
    case RequestKind::kList:
      file = "@v/list";
      break;
    case RequestKind::kLatest:
      file = "@latest";
      break;
    case RequestKind::kInfo:
      if (auto err = ParseVersion(escaped_version, &req)) return *err;
      // A query (branch, "v1.2", a version of the wrong major) is fine here;
      // only a fixed version gives a fixed answer.
      req.canonical_version =
          IsCanonical(req.version) && CheckVersion(req.module, req.version).ok();
      file = Concat({"@v/", req.escaped_version, ".info"});
      break;
    case RequestKind::kMod:
    case RequestKind::kZip:
      if (auto err = ParseVersion(escaped_version, &req)) return *err;
      if (auto err = RequireCanonicalVersion(&req)) return *err;
      file = Concat({"@v/", req.escaped_version, req.kind == RequestKind::kMod ? ".mod" : ".zip"});
      break;
    default:
      return NotFound();
  }
  req.cache_key = EncodeUrlPath(Concat({req.escaped_module, "/", file}));
  req.upstream_path = Concat({"/", req.cache_key});
  return req;
}

// A checksum database name as the go command takes it from GOSUMDB: a
// lower-case host name.
bool ValidSumdbName(std::string_view name) {
  if (name.empty() || name[0] == '.' || name[0] == '-') return false;
  for (char c : name) {
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '-')) return false;
  }
  return true;
}

// sumdb/$name/{supported,latest,lookup/$module@$version,tile/...}; `path` is
// what follows "sumdb/".
std::variant<Request, RequestError> ParseSumdbRequest(std::string_view path) {
  const size_t slash = path.find('/');
  if (slash == std::string_view::npos) return NotFound();
  const std::string_view name = path.substr(0, slash);
  const std::string_view rest = path.substr(slash + 1);
  if (!ValidSumdbName(name)) {
    return BadRequest(Concat({"invalid checksum database name ", GoQuote(name)}));
  }
  Request req;
  req.sumdb_name = std::string(name);
  std::string_view lookup = rest;
  if (rest == "supported") {
    req.kind = RequestKind::kSumdbSupported;
    req.sumdb_path = "supported";
  } else if (rest == "latest") {
    req.kind = RequestKind::kSumdbLatest;
    req.sumdb_path = "latest";
  } else if (ConsumePrefix(&lookup, "lookup/")) {
    req.kind = RequestKind::kSumdbLookup;
    const size_t at = lookup.find('@');
    if (at == std::string_view::npos) {
      return BadRequest(Concat({"invalid module@version syntax ", GoQuote(lookup)}));
    }
    if (auto err = ParseModule(lookup.substr(0, at), &req)) return *err;
    if (auto err = ParseVersion(lookup.substr(at + 1), &req)) return *err;
    if (auto err = RequireCanonicalVersion(&req)) return *err;
    req.sumdb_path = Concat({"lookup/", req.escaped_module, "@", req.escaped_version});
  } else if (rest.starts_with("tile/")) {
    req.kind = RequestKind::kSumdbTile;
    absl::StatusOr<Tile> tile = ParseTilePath(rest);
    if (!tile.ok()) return BadRequest(std::string(tile.status().message()));
    req.tile = *tile;
    req.sumdb_path = TilePath(*tile);
  } else {
    return NotFound();
  }
  req.cache_key = EncodeUrlPath(Concat({"sumdb/", req.sumdb_name, "/", req.sumdb_path}));
  req.upstream_path = Concat({"/", req.cache_key});
  return req;
}

}  // namespace

bool Request::immutable() const {
  switch (kind) {
    case RequestKind::kMod:
    case RequestKind::kZip:
    case RequestKind::kSumdbLookup:
    case RequestKind::kSumdbTile:
      return true;
    case RequestKind::kInfo:
      return canonical_version;
    case RequestKind::kList:
    case RequestKind::kLatest:
    case RequestKind::kSumdbSupported:
    case RequestKind::kSumdbLatest:
      return false;
  }
  return false;
}

std::variant<Request, RequestError> ParseRequest(std::string_view target) {
  if (target.size() > kMaxRequestTargetLength) {
    return RequestError{414, "request target too long"};
  }
  if (target.empty() || target[0] != '/') {
    return BadRequest("request target must be an absolute path");
  }
  // The protocol has no query parameters; a client may still add some.
  target = target.substr(0, target.find('?'));
  if ((target.find('#') != std::string_view::npos))
    return BadRequest("invalid '#' in request target");
  absl::StatusOr<std::string> decoded = DecodeUrlPath(target);
  if (!decoded.ok()) return BadRequest(std::string(decoded.status().message()));
  if (auto err = CheckDecodedPath(*decoded)) return *err;

  std::string_view path = *decoded;
  path.remove_prefix(1);
  if (path.empty()) return NotFound();
  // No module path starts with "sumdb/": its first element has a dot.
  if (ConsumePrefix(&path, "sumdb/")) return ParseSumdbRequest(path);
  return ParseModuleRequest(path);
}

std::optional<Request> ModRequestFor(const Request& info) {
  if (info.kind != RequestKind::kInfo || !info.canonical_version) return std::nullopt;
  Request mod = info;
  mod.kind = RequestKind::kMod;
  mod.cache_key = EncodeUrlPath(Concat({mod.escaped_module, "/@v/", mod.escaped_version, ".mod"}));
  mod.upstream_path = Concat({"/", mod.cache_key});
  return mod;
}

}  // namespace modgate::goproxy
