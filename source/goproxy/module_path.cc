#include "source/goproxy/module_path.h"

#include <array>
#include <optional>

#include "source/goproxy/go_quote.h"
#include "source/goproxy/semver.h"
#include "source/goproxy/string_util.h"

namespace modgate::goproxy {
namespace {

enum class PathKind { kModule, kImport, kFile };

// modPathOK: ASCII letters, digits and - . _ ~.
bool ModPathOk(char32_t r) {
  return r == '-' || r == '.' || r == '_' || r == '~' || ('0' <= r && r <= '9') ||
         ('A' <= r && r <= 'Z') || ('a' <= r && r <= 'z');
}

// importPathOK: modPathOK plus '+'.
bool ImportPathOk(char32_t r) { return ModPathOk(r) || r == '+'; }

// fileNameOK. Go also allows every non-ASCII Unicode letter; without Unicode
// tables this allows none. It only matters to EscapeVersion, which rejects
// non-ASCII anyway (with a different message than Go for letters).
bool FileNameOk(char32_t r) {
  if (r >= 0x80) return false;
  if (('0' <= r && r <= '9') || ('A' <= r && r <= 'Z') || ('a' <= r && r <= 'z')) return true;
  constexpr std::string_view kAllowed = "!#$%&()+,-.=@[]^_{}~ ";
  return kAllowed.find(static_cast<char>(r)) != std::string_view::npos;
}

// firstPathOK: the first element must be a lower-case LDH domain name.
bool FirstPathOk(char r) {
  return r == '-' || r == '.' || ('0' <= r && r <= '9') || ('a' <= r && r <= 'z');
}

constexpr std::array<std::string_view, 22> kBadWindowsNames = {
    "CON",  "PRN",  "AUX",  "NUL",  "COM1", "COM2", "COM3", "COM4", "COM5", "COM6", "COM7",
    "COM8", "COM9", "LPT1", "LPT2", "LPT3", "LPT4", "LPT5", "LPT6", "LPT7", "LPT8", "LPT9",
};

absl::Status Error(std::string message) { return absl::InvalidArgumentError(std::move(message)); }

// checkElem: whether one path element is valid for `kind`.
absl::Status CheckElem(std::string_view elem, PathKind kind) {
  if (elem.empty()) return Error("empty path element");
  if (elem.find_first_not_of('.') == std::string_view::npos) {
    return Error(Concat({"invalid path element ", GoQuote(elem)}));
  }
  if (elem[0] == '.' && kind == PathKind::kModule) return Error("leading dot in path element");
  if (elem.back() == '.') return Error("trailing dot in path element");
  for (std::string_view rest = elem; !rest.empty();) {
    int size;
    const char32_t r = DecodeRune(rest, &size);
    bool ok = false;
    switch (kind) {
      case PathKind::kModule:
        ok = ModPathOk(r);
        break;
      case PathKind::kImport:
        ok = ImportPathOk(r);
        break;
      case PathKind::kFile:
        ok = FileNameOk(r);
        break;
    }
    if (!ok) return Error(Concat({"invalid char ", GoQuoteRune(r)}));
    rest.remove_prefix(size);
  }

  // Windows disallows a set of names, whatever their case and extension.
  std::string_view short_name = elem.substr(0, elem.find('.'));
  for (std::string_view bad : kBadWindowsNames) {
    if (EqualsIgnoreAsciiCase(bad, short_name)) {
      return Error(
          Concat({GoQuote(short_name), " disallowed as path element component on Windows"}));
    }
  }
  if (kind == PathKind::kFile) return absl::OkStatus();

  // Elements that look like Windows short names ("PROGRA~1") could alias
  // other paths on Windows.
  const size_t tilde = short_name.rfind('~');
  if (tilde != std::string_view::npos && tilde + 1 < short_name.size()) {
    const std::string_view suffix = short_name.substr(tilde + 1);
    if (suffix.find_first_not_of("0123456789") == std::string_view::npos) {
      return Error("trailing tilde and digits in path element");
    }
  }
  return absl::OkStatus();
}

// checkPath: the rules common to module, import and file paths.
absl::Status CheckGeneralPath(std::string_view path, PathKind kind) {
  if (!ValidUtf8(path)) return Error("invalid UTF-8");
  if (path.empty()) return Error("empty string");
  if (path[0] == '-' && kind != PathKind::kFile) return Error("leading dash");
  if ((path.find("//") != std::string_view::npos)) return Error("double slash");
  if (path.back() == '/') return Error("trailing slash");
  size_t start = 0;
  for (size_t i = 0; i < path.size(); ++i) {
    if (path[i] == '/') {
      if (absl::Status s = CheckElem(path.substr(start, i - start), kind); !s.ok()) return s;
      start = i + 1;
    }
  }
  return CheckElem(path.substr(start), kind);
}

// CheckPath's rules, with Go's unwrapped messages.
absl::Status CheckModulePathInner(std::string_view path) {
  if (absl::Status s = CheckGeneralPath(path, PathKind::kModule); !s.ok()) return s;
  size_t i = path.find('/');
  if (i == std::string_view::npos) i = path.size();
  if (i == 0) return Error("leading slash");
  const std::string_view first = path.substr(0, i);
  if (!(first.find('.') != std::string_view::npos))
    return Error("missing dot in first path element");
  if (path[0] == '-') return Error("leading dash in first path element");
  for (char r : first) {
    if (!FirstPathOk(r)) {
      return Error(Concat(
          {"invalid char ", GoQuoteRune(static_cast<unsigned char>(r)), " in first path element"}));
    }
  }
  if (!SplitPathVersion(path).ok) return Error("invalid version");
  return absl::OkStatus();
}

// splitGopkgIn: SplitPathVersion for gopkg.in paths.
PathVersionSplit SplitGopkgIn(std::string_view path) {
  if (!path.starts_with("gopkg.in/")) return {path, "", false};
  size_t i = path.size();
  if (path.ends_with("-unstable")) i -= std::string_view("-unstable").size();
  while (i > 0 && path[i - 1] >= '0' && path[i - 1] <= '9') --i;
  if (i <= 1 || path[i - 1] != 'v' || path[i - 2] != '.') {
    // All gopkg.in paths must end in vN for some N.
    return {path, "", false};
  }
  const std::string_view prefix = path.substr(0, i - 2);
  const std::string_view path_major = path.substr(i - 2);
  if (path_major.size() <= 2 || (path_major[2] == '0' && path_major != ".v0")) {
    return {path, "", false};
  }
  return {prefix, path_major, true};
}

// escapeString: '!' + lower case for each upper-case letter.
absl::StatusOr<std::string> EscapeString(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (char c : s) {
    if (c == '!' || static_cast<unsigned char>(c) >= 0x80) {
      // CheckPath / EscapeVersion should have caught this; the escaping below
      // is only unambiguous without them.
      return Error("internal error: inconsistency in EscapePath");
    }
    if ('A' <= c && c <= 'Z') {
      out.push_back('!');
      out.push_back(static_cast<char>(c - 'A' + 'a'));
    } else {
      out.push_back(c);
    }
  }
  return out;
}

// unescapeString: the inverse of EscapeString, rejecting every input that
// EscapeString could not have produced.
bool UnescapeString(std::string_view escaped, std::string* out) {
  out->clear();
  bool bang = false;
  for (char c : escaped) {
    if (static_cast<unsigned char>(c) >= 0x80) return false;
    if (bang) {
      bang = false;
      if (c < 'a' || c > 'z') return false;
      out->push_back(static_cast<char>(c - 'a' + 'A'));
      continue;
    }
    if (c == '!') {
      bang = true;
      continue;
    }
    if ('A' <= c && c <= 'Z') return false;
    out->push_back(c);
  }
  return !bang;
}

// CheckPathMajor's test: why `v` does not match `path_major`, or nullopt if
// it does.
std::optional<std::string> PathMajorMismatch(std::string_view v, std::string_view path_major) {
  if (path_major.starts_with(".v") && path_major.ends_with("-unstable")) {
    path_major.remove_suffix(std::string_view("-unstable").size());
  }
  if (v.starts_with("v0.0.0-") && path_major == ".v1") {
    // An old bug generated v0.0.0- pseudo-versions for gopkg.in .v1 paths,
    // and go.mod files in the wild still require them.
    return std::nullopt;
  }
  const std::string m = semver::Major(v);
  std::string_view want = path_major;
  if (path_major.empty()) {
    if (m == "v0" || m == "v1" || semver::Build(v) == "+incompatible") return std::nullopt;
    want = "v0 or v1";
  } else if (path_major[0] == '/' || path_major[0] == '.') {
    if (m == path_major.substr(1)) return std::nullopt;
    want = path_major.substr(1);
  }
  return Concat({"should be ", want, ", not ", m});
}

}  // namespace

absl::Status CheckPath(std::string_view path) {
  if (absl::Status s = CheckModulePathInner(path); !s.ok()) {
    return Error(Concat({"malformed module path ", GoQuote(path), ": ", View(s.message())}));
  }
  return absl::OkStatus();
}

absl::Status CheckImportPath(std::string_view path) {
  if (absl::Status s = CheckGeneralPath(path, PathKind::kImport); !s.ok()) {
    return Error(Concat({"malformed import path ", GoQuote(path), ": ", View(s.message())}));
  }
  return absl::OkStatus();
}

absl::Status CheckVersion(std::string_view path, std::string_view version) {
  if (absl::Status s = CheckPath(path); !s.ok()) return s;
  if (!semver::IsValid(version)) {
    return Error(Concat({path, "@", version, ": invalid version: not a semantic version"}));
  }
  // Go wraps CheckPathMajor's InvalidVersionError in a ModuleError, which
  // prints as "path@version: invalid version: <reason>".
  if (std::optional<std::string> reason =
          PathMajorMismatch(version, SplitPathVersion(path).path_major)) {
    return Error(Concat({path, "@", version, ": invalid version: ", *reason}));
  }
  return absl::OkStatus();
}

PathVersionSplit SplitPathVersion(std::string_view path) {
  if (path.starts_with("gopkg.in/")) return SplitGopkgIn(path);
  size_t i = path.size();
  bool dot = false;
  while (i > 0 && ((path[i - 1] >= '0' && path[i - 1] <= '9') || path[i - 1] == '.')) {
    if (path[i - 1] == '.') dot = true;
    --i;
  }
  if (i <= 1 || i == path.size() || path[i - 1] != 'v' || path[i - 2] != '/') {
    return {path, "", true};
  }
  const std::string_view prefix = path.substr(0, i - 2);
  const std::string_view path_major = path.substr(i - 2);
  if (dot || path_major.size() <= 2 || path_major[2] == '0' || path_major == "/v1") {
    return {path, "", false};
  }
  return {prefix, path_major, true};
}

absl::Status CheckPathMajor(std::string_view v, std::string_view path_major) {
  if (std::optional<std::string> reason = PathMajorMismatch(v, path_major)) {
    return Error(Concat({"version ", GoQuote(v), " invalid: ", *reason}));
  }
  return absl::OkStatus();
}

bool MatchPathMajor(std::string_view v, std::string_view path_major) {
  return CheckPathMajor(v, path_major).ok();
}

std::string CanonicalVersion(std::string_view v) {
  std::string cv = semver::Canonical(v);
  if (semver::Build(v) == "+incompatible") cv += "+incompatible";
  return cv;
}

absl::StatusOr<std::string> EscapePath(std::string_view path) {
  if (absl::Status s = CheckPath(path); !s.ok()) return s;
  return EscapeString(path);
}

absl::StatusOr<std::string> EscapeVersion(std::string_view version) {
  if (!CheckElem(version, PathKind::kFile).ok() || (version.find('!') != std::string_view::npos)) {
    return Error(Concat({"version ", GoQuote(version), " invalid: disallowed version string"}));
  }
  return EscapeString(version);
}

absl::StatusOr<std::string> UnescapePath(std::string_view escaped) {
  std::string path;
  if (!UnescapeString(escaped, &path)) {
    return Error(Concat({"invalid escaped module path ", GoQuote(escaped)}));
  }
  if (absl::Status s = CheckPath(path); !s.ok()) {
    return Error(
        Concat({"invalid escaped module path ", GoQuote(escaped), ": ", View(s.message())}));
  }
  return path;
}

absl::StatusOr<std::string> UnescapeVersion(std::string_view escaped) {
  std::string version;
  if (!UnescapeString(escaped, &version)) {
    return Error(Concat({"invalid escaped version ", GoQuote(escaped)}));
  }
  if (absl::Status s = CheckElem(version, PathKind::kFile); !s.ok()) {
    // Go quotes the decoded version here, not the escaped one.
    return Error(Concat({"invalid escaped version ", GoQuote(version), ": ", View(s.message())}));
  }
  return version;
}

}  // namespace modgate::goproxy
