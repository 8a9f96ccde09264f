// Cases ported from golang.org/x/mod/module/module_test.go; the expected error
// messages were produced by running golang.org/x/mod itself (Debian's copy,
// with go1.19) on the same inputs.
#include "source/goproxy/module_path.h"

#include <string>
#include <vector>

#include "gtest/gtest.h"

namespace modgate::goproxy {
namespace {

std::string Message(const absl::Status& s) { return std::string(s.message()); }

template <typename T>
std::string Message(const absl::StatusOr<T>& s) {
  return std::string(s.status().message());
}

// checkTests.
TEST(ModulePathTest, CheckVersion) {
  struct Case {
    std::string path;
    std::string version;
    bool ok;
  };
  const std::vector<Case> tests = {
      {"rsc.io/quote", "0.1.0", false},
      {"rsc io/quote", "v1.0.0", false},

      {"github.com/go-yaml/yaml", "v0.8.0", true},
      {"github.com/go-yaml/yaml", "v1.0.0", true},
      {"github.com/go-yaml/yaml", "v2.0.0", false},
      {"github.com/go-yaml/yaml", "v2.1.5", false},
      {"github.com/go-yaml/yaml", "v3.0.0", false},

      {"github.com/go-yaml/yaml/v2", "v1.0.0", false},
      {"github.com/go-yaml/yaml/v2", "v2.0.0", true},
      {"github.com/go-yaml/yaml/v2", "v2.1.5", true},
      {"github.com/go-yaml/yaml/v2", "v3.0.0", false},

      {"gopkg.in/yaml.v0", "v0.8.0", true},
      {"gopkg.in/yaml.v0", "v1.0.0", false},
      {"gopkg.in/yaml.v0", "v2.0.0", false},
      {"gopkg.in/yaml.v0", "v2.1.5", false},
      {"gopkg.in/yaml.v0", "v3.0.0", false},

      {"gopkg.in/yaml.v1", "v0.8.0", false},
      {"gopkg.in/yaml.v1", "v1.0.0", true},
      {"gopkg.in/yaml.v1", "v2.0.0", false},
      {"gopkg.in/yaml.v1", "v2.1.5", false},
      {"gopkg.in/yaml.v1", "v3.0.0", false},

      // For gopkg.in, .v1 means v1 only (not v0), but early vgo generated v0
      // pseudo-versions for it, which are still accepted.
      {"gopkg.in/check.v1", "v0.0.0", false},
      {"gopkg.in/check.v1", "v0.0.0-20160102150405-abcdef123456", true},

      {"gopkg.in/yaml.v2", "v1.0.0", false},
      {"gopkg.in/yaml.v2", "v2.0.0", true},
      {"gopkg.in/yaml.v2", "v2.1.5", true},
      {"gopkg.in/yaml.v2", "v3.0.0", false},

      {"rsc.io/quote", "v17.0.0", false},
      {"rsc.io/quote", "v17.0.0+incompatible", true},
  };
  for (const Case& tt : tests) {
    EXPECT_EQ(CheckVersion(tt.path, tt.version).ok(), tt.ok) << tt.path << "@" << tt.version;
  }
}

TEST(ModulePathTest, CheckVersionMessages) {
  struct Case {
    std::string path;
    std::string version;
    std::string error;
  };
  const std::vector<Case> tests = {
      {"rsc.io/quote", "0.1.0", "rsc.io/quote@0.1.0: invalid version: not a semantic version"},
      {"github.com/go-yaml/yaml", "v2.0.0",
       "github.com/go-yaml/yaml@v2.0.0: invalid version: should be v0 or v1, not v2"},
      {"github.com/go-yaml/yaml/v2", "v3.0.0",
       "github.com/go-yaml/yaml/v2@v3.0.0: invalid version: should be v2, not v3"},
      {"gopkg.in/yaml.v1", "v0.8.0",
       "gopkg.in/yaml.v1@v0.8.0: invalid version: should be v1, not v0"},
      {"gopkg.in/yaml.v1-unstable", "v2.0.0",
       "gopkg.in/yaml.v1-unstable@v2.0.0: invalid version: should be v1, not v2"},
      {"rsc io/quote", "v1.0.0", "malformed module path \"rsc io/quote\": invalid char ' '"},
  };
  for (const Case& tt : tests) {
    EXPECT_EQ(Message(CheckVersion(tt.path, tt.version)), tt.error);
  }
}

struct PathCase {
  std::string path;
  bool ok;
  bool import_ok;
  bool file_ok;  // CheckFilePath is not ported; kept to mirror Go's table.
};

// checkPathTests.
const std::vector<PathCase>& CheckPathTests() {
  static const auto* tests = new std::vector<PathCase>{
      {"x.y/z", true, true, true},
      {"x.y", true, true, true},

      {"", false, false, false},
      {"x.y/\xFFz", false, false, false},
      {"/x.y/z", false, false, false},
      {"x./z", false, false, false},
      {".x/z", false, true, true},
      {"-x/z", false, false, true},
      {"x..y/z", true, true, true},
      {"x.y/z/../../w", false, false, false},
      {"x.y//z", false, false, false},
      {"x.y/z//w", false, false, false},
      {"x.y/z/", false, false, false},

      {"x.y/z/v0", false, true, true},
      {"x.y/z/v1", false, true, true},
      {"x.y/z/v2", true, true, true},
      {"x.y/z/v2.0", false, true, true},
      {"X.y/z", false, true, true},

      {"!x.y/z", false, false, true},
      {"_x.y/z", false, true, true},
      {"x.y!/z", false, false, true},
      {"x.y\"/z", false, false, false},
      {"x.y#/z", false, false, true},
      {"x.y$/z", false, false, true},
      {"x.y%/z", false, false, true},
      {"x.y&/z", false, false, true},
      {"x.y'/z", false, false, false},
      {"x.y(/z", false, false, true},
      {"x.y)/z", false, false, true},
      {"x.y*/z", false, false, false},
      {"x.y+/z", false, true, true},
      {"x.y,/z", false, false, true},
      {"x.y-/z", true, true, true},
      {"x.y./zt", false, false, false},
      {"x.y:/z", false, false, false},
      {"x.y;/z", false, false, false},
      {"x.y</z", false, false, false},
      {"x.y=/z", false, false, true},
      {"x.y>/z", false, false, false},
      {"x.y?/z", false, false, false},
      {"x.y@/z", false, false, true},
      {"x.y[/z", false, false, true},
      {"x.y\\/z", false, false, false},
      {"x.y]/z", false, false, true},
      {"x.y^/z", false, false, true},
      {"x.y_/z", false, true, true},
      {"x.y`/z", false, false, false},
      {"x.y{/z", false, false, true},
      {"x.y}/z", false, false, true},
      {"x.y~/z", false, true, true},
      {"x.y/z!", false, false, true},
      {"x.y/z\"", false, false, false},
      {"x.y/z#", false, false, true},
      {"x.y/z$", false, false, true},
      {"x.y/z%", false, false, true},
      {"x.y/z&", false, false, true},
      {"x.y/z'", false, false, false},
      {"x.y/z(", false, false, true},
      {"x.y/z)", false, false, true},
      {"x.y/z*", false, false, false},
      {"x.y/z++", false, true, true},
      {"x.y/z,", false, false, true},
      {"x.y/z-", true, true, true},
      {"x.y/z.t", true, true, true},
      {"x.y/z/t", true, true, true},
      {"x.y/z:", false, false, false},
      {"x.y/z;", false, false, false},
      {"x.y/z<", false, false, false},
      {"x.y/z=", false, false, true},
      {"x.y/z>", false, false, false},
      {"x.y/z?", false, false, false},
      {"x.y/z@", false, false, true},
      {"x.y/z[", false, false, true},
      {"x.y/z\\", false, false, false},
      {"x.y/z]", false, false, true},
      {"x.y/z^", false, false, true},
      {"x.y/z_", true, true, true},
      {"x.y/z`", false, false, false},
      {"x.y/z{", false, false, true},
      {"x.y/z}", false, false, true},
      {"x.y/z~", true, true, true},
      {"x.y/x.foo", true, true, true},
      {"x.y/aux.foo", false, false, false},
      {"x.y/prn", false, false, false},
      {"x.y/prn2", true, true, true},
      {"x.y/com", true, true, true},
      {"x.y/com1", false, false, false},
      {"x.y/com1.txt", false, false, false},
      {"x.y/calm1", true, true, true},
      {"x.y/z~", true, true, true},
      {"x.y/z~0", false, false, true},
      {"x.y/z~09", false, false, true},
      {"x.y/z09", true, true, true},
      {"x.y/z09~", true, true, true},
      {"x.y/z09~09z", true, true, true},
      {"x.y/z09~09z~09", false, false, true},
      {"github.com/!123/logrus", false, false, true},

      // Non-ASCII is disallowed in module mode for now.
      {"github.com/user/unicode/испытание", false, false, true},

      {"../x", false, false, false},
      {"./y", false, false, false},
      {"x:y", false, false, false},
      {"\\temp\\foo", false, false, false},
      {".gitignore", false, true, true},
      {".github/ISSUE_TEMPLATE", false, true, true},
      {"x☺y", false, false, false},
  };
  return *tests;
}

TEST(ModulePathTest, CheckPath) {
  for (const PathCase& tt : CheckPathTests()) {
    const absl::Status s = CheckPath(tt.path);
    EXPECT_EQ(s.ok(), tt.ok) << tt.path << ": " << s;
    if (!s.ok()) {
      EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
    }
  }
}

TEST(ModulePathTest, CheckImportPath) {
  for (const PathCase& tt : CheckPathTests()) {
    const absl::Status s = CheckImportPath(tt.path);
    EXPECT_EQ(s.ok(), tt.import_ok) << tt.path << ": " << s;
  }
}

TEST(ModulePathTest, CheckPathMessages) {
  struct Case {
    std::string path;
    std::string error;
  };
  const std::vector<Case> tests = {
      {"x.y/z", ""},
      {"", "malformed module path \"\": empty string"},
      {"x.y/\xffz", "malformed module path \"x.y/\\xffz\": invalid UTF-8"},
      {"/x.y/z", "malformed module path \"/x.y/z\": empty path element"},
      {"x./z", "malformed module path \"x./z\": trailing dot in path element"},
      {".x/z", "malformed module path \".x/z\": leading dot in path element"},
      {"-x/z", "malformed module path \"-x/z\": leading dash"},
      {"x.y/z/../../w", "malformed module path \"x.y/z/../../w\": invalid path element \"..\""},
      {"x.y//z", "malformed module path \"x.y//z\": double slash"},
      {"x.y/z/", "malformed module path \"x.y/z/\": trailing slash"},
      {"x.y/z/v0", "malformed module path \"x.y/z/v0\": invalid version"},
      {"x.y/z/v1", "malformed module path \"x.y/z/v1\": invalid version"},
      {"x.y/z/v2.0", "malformed module path \"x.y/z/v2.0\": invalid version"},
      {"X.y/z", "malformed module path \"X.y/z\": invalid char 'X' in first path element"},
      {"!x.y/z", "malformed module path \"!x.y/z\": invalid char '!'"},
      {"x.y\"/z", "malformed module path \"x.y\\\"/z\": invalid char '\"'"},
      {"x.y/z++", "malformed module path \"x.y/z++\": invalid char '+'"},
      {"x.y/aux.foo",
       "malformed module path \"x.y/aux.foo\": \"aux\" disallowed as path element component on "
       "Windows"},
      {"x.y/com1.txt",
       "malformed module path \"x.y/com1.txt\": \"com1\" disallowed as path element component on "
       "Windows"},
      {"x.y/z~09", "malformed module path \"x.y/z~09\": trailing tilde and digits in path element"},
      {"github.com/!123/logrus",
       "malformed module path \"github.com/!123/logrus\": invalid char '!'"},
      {"github.com/user/unicode/испытание",
       "malformed module path \"github.com/user/unicode/испытание\": invalid char 'и'"},
      {"x☺y", "malformed module path \"x☺y\": invalid char '☺'"},
      {"x:y", "malformed module path \"x:y\": invalid char ':'"},
      {"\\temp\\foo", "malformed module path \"\\\\temp\\\\foo\": invalid char '\\\\'"},
      {".gitignore", "malformed module path \".gitignore\": leading dot in path element"},
      {"x", "malformed module path \"x\": missing dot in first path element"},
      {"gopkg.in/yaml", "malformed module path \"gopkg.in/yaml\": invalid version"},
      {"gopkg.in/yaml.v02", "malformed module path \"gopkg.in/yaml.v02\": invalid version"},
      {"x.y/..", "malformed module path \"x.y/..\": invalid path element \"..\""},
      {"x.y/.", "malformed module path \"x.y/.\": invalid path element \".\""},
      {"x.y/z.", "malformed module path \"x.y/z.\": trailing dot in path element"},
      {std::string("a.b/c\x00", 6) + "d",
       "malformed module path \"a.b/c\\x00d\": invalid char '\\x00'"},
      {"a.b/c\td", "malformed module path \"a.b/c\\td\": invalid char '\\t'"},
  };
  for (const Case& tt : tests) {
    EXPECT_EQ(Message(CheckPath(tt.path)), tt.error);
  }
}

TEST(ModulePathTest, CheckImportPathMessage) {
  EXPECT_EQ(Message(CheckImportPath("x.y/z@")),
            "malformed import path \"x.y/z@\": invalid char '@'");
}

// splitPathVersionTests.
TEST(ModulePathTest, SplitPathVersion) {
  struct Case {
    std::string prefix;
    std::string version;
  };
  const std::vector<Case> tests = {
      {"x.y/z", ""},
      {"x.y/z", "/v2"},
      {"x.y/z", "/v3"},
      {"x.y/v", ""},
      {"gopkg.in/yaml", ".v0"},
      {"gopkg.in/yaml", ".v1"},
      {"gopkg.in/yaml", ".v2"},
      {"gopkg.in/yaml", ".v3"},
  };
  for (const Case& tt : tests) {
    const std::string path = tt.prefix + tt.version;
    const PathVersionSplit split = SplitPathVersion(path);
    EXPECT_EQ(split.prefix, tt.prefix) << path;
    EXPECT_EQ(split.path_major, tt.version) << path;
    EXPECT_TRUE(split.ok) << path;
  }
  for (const PathCase& tt : CheckPathTests()) {
    const PathVersionSplit split = SplitPathVersion(tt.path);
    EXPECT_EQ(std::string(split.prefix) + std::string(split.path_major), tt.path);
  }
}

TEST(ModulePathTest, SplitPathVersionMore) {
  EXPECT_FALSE(SplitPathVersion("x.y/z/v1").ok);
  EXPECT_FALSE(SplitPathVersion("x.y/z/v0").ok);
  EXPECT_FALSE(SplitPathVersion("x.y/z/v02").ok);
  EXPECT_FALSE(SplitPathVersion("x.y/z/v2.1").ok);
  EXPECT_TRUE(SplitPathVersion("x.y/z/v10").ok);
  EXPECT_EQ(SplitPathVersion("x.y/z/v10").path_major, "/v10");
  const PathVersionSplit unstable = SplitPathVersion("gopkg.in/yaml.v2-unstable");
  EXPECT_TRUE(unstable.ok);
  EXPECT_EQ(unstable.prefix, "gopkg.in/yaml");
  EXPECT_EQ(unstable.path_major, ".v2-unstable");
  EXPECT_FALSE(SplitPathVersion("gopkg.in/yaml").ok);
  EXPECT_FALSE(SplitPathVersion("gopkg.in/yaml.v02").ok);
  EXPECT_FALSE(SplitPathVersion("gopkg.in/yaml/v2").ok);
  EXPECT_TRUE(SplitPathVersion("gopkg.in/check.v1").ok);
}

struct EscapeCase {
  std::string path;
  std::string esc;  // empty means same as path
};

// escapeTests.
const std::vector<EscapeCase>& EscapeTests() {
  static const auto* tests = new std::vector<EscapeCase>{
      {"ascii.com/abcdefghijklmnopqrstuvwxyz.-/~_0123456789", ""},
      {"github.com/GoogleCloudPlatform/omega", "github.com/!google!cloud!platform/omega"},
  };
  return *tests;
}

TEST(ModulePathTest, EscapePath) {
  for (const PathCase& tt : CheckPathTests()) {
    if (!tt.ok) {
      EXPECT_FALSE(EscapePath(tt.path).ok()) << tt.path;
    }
  }
  for (const EscapeCase& tt : EscapeTests()) {
    absl::StatusOr<std::string> esc = EscapePath(tt.path);
    ASSERT_TRUE(esc.ok()) << tt.path << ": " << esc.status();
    EXPECT_EQ(*esc, tt.esc.empty() ? tt.path : tt.esc);
  }
  EXPECT_EQ(*EscapePath("github.com/BurntSushi/toml"), "github.com/!burnt!sushi/toml");
  EXPECT_EQ(Message(EscapePath("x")),
            "malformed module path \"x\": missing dot in first path element");
}

TEST(ModulePathTest, UnescapePath) {
  // badUnescape.
  for (const char* bad : {
           "github.com/GoogleCloudPlatform/omega",
           "github.com/!google!cloud!platform!/omega",
           "github.com/!0google!cloud!platform/omega",
           "github.com/!_google!cloud!platform/omega",
           "github.com/!!google!cloud!platform/omega",
           "",
       }) {
    EXPECT_FALSE(UnescapePath(bad).ok()) << bad;
  }
  for (const PathCase& tt : CheckPathTests()) {
    if (!tt.ok) {
      EXPECT_FALSE(UnescapePath(tt.path).ok()) << tt.path;
    }
  }
  for (const EscapeCase& tt : EscapeTests()) {
    const std::string esc = tt.esc.empty() ? tt.path : tt.esc;
    absl::StatusOr<std::string> path = UnescapePath(esc);
    ASSERT_TRUE(path.ok()) << esc << ": " << path.status();
    EXPECT_EQ(*path, tt.path);
  }
}

TEST(ModulePathTest, UnescapePathMessages) {
  struct Case {
    std::string escaped;
    std::string path;
    std::string error;
  };
  const std::vector<Case> tests = {
      {"github.com/GoogleCloudPlatform/omega", "",
       "invalid escaped module path \"github.com/GoogleCloudPlatform/omega\""},
      {"github.com/!google!cloud!platform!/omega", "",
       "invalid escaped module path \"github.com/!google!cloud!platform!/omega\""},
      {"github.com/!0google!cloud!platform/omega", "",
       "invalid escaped module path \"github.com/!0google!cloud!platform/omega\""},
      {"github.com/!_google!cloud!platform/omega", "",
       "invalid escaped module path \"github.com/!_google!cloud!platform/omega\""},
      {"github.com/!!google!cloud!platform/omega", "",
       "invalid escaped module path \"github.com/!!google!cloud!platform/omega\""},
      {"", "", "invalid escaped module path \"\": malformed module path \"\": empty string"},
      {"github.com/X/y", "", "invalid escaped module path \"github.com/X/y\""},
      {"github.com/!x", "github.com/X", ""},
      {"x/y", "",
       "invalid escaped module path \"x/y\": malformed module path \"x/y\": missing dot in first "
       "path element"},
      {"github.com/!burnt!sushi/toml", "github.com/BurntSushi/toml", ""},
  };
  for (const Case& tt : tests) {
    absl::StatusOr<std::string> path = UnescapePath(tt.escaped);
    if (tt.error.empty()) {
      ASSERT_TRUE(path.ok()) << tt.escaped << ": " << path.status();
      EXPECT_EQ(*path, tt.path);
    } else {
      EXPECT_EQ(Message(path), tt.error);
    }
  }
}

TEST(ModulePathTest, EscapeVersion) {
  struct Case {
    std::string version;
    std::string escaped;
    std::string error;
  };
  const std::vector<Case> tests = {
      {"v1.2.3", "v1.2.3", ""},
      {"v1.2.3-Pre", "v1.2.3-!pre", ""},
      {"master", "master", ""},
      {"", "", "version \"\" invalid: disallowed version string"},
      {"v1!", "", "version \"v1!\" invalid: disallowed version string"},
      {"a/b", "", "version \"a/b\" invalid: disallowed version string"},
      {"a b", "a b", ""},
      {"..", "", "version \"..\" invalid: disallowed version string"},
      {"a:b", "", "version \"a:b\" invalid: disallowed version string"},
      {"con", "", "version \"con\" invalid: disallowed version string"},
      {"v1.0.0+incompatible", "v1.0.0+incompatible", ""},
      {"x~1", "x~1", ""},
      {"\xff", "", "version \"\\xff\" invalid: disallowed version string"},
  };
  for (const Case& tt : tests) {
    absl::StatusOr<std::string> esc = EscapeVersion(tt.version);
    if (tt.error.empty()) {
      ASSERT_TRUE(esc.ok()) << tt.version << ": " << esc.status();
      EXPECT_EQ(*esc, tt.escaped);
    } else {
      EXPECT_EQ(Message(esc), tt.error);
    }
  }
}

TEST(ModulePathTest, UnescapeVersion) {
  struct Case {
    std::string escaped;
    std::string version;
    std::string error;
  };
  const std::vector<Case> tests = {
      {"v1.2.3", "v1.2.3", ""},
      {"v1.2.3-!pre", "v1.2.3-Pre", ""},
      {"v1.2.3-Pre", "", "invalid escaped version \"v1.2.3-Pre\""},
      {"!", "", "invalid escaped version \"!\""},
      {"!!a", "", "invalid escaped version \"!!a\""},
      {"", "", "invalid escaped version \"\": empty path element"},
      {"a:b", "", "invalid escaped version \"a:b\": invalid char ':'"},
      {"a b", "a b", ""},
      {"..", "", "invalid escaped version \"..\": invalid path element \"..\""},
      {"com1", "",
       "invalid escaped version \"com1\": \"com1\" disallowed as path element component on "
       "Windows"},
      {"v1.0.0%2f", "v1.0.0%2f", ""},
      {"x~1", "x~1", ""},
      {"é", "", "invalid escaped version \"é\""},
  };
  for (const Case& tt : tests) {
    absl::StatusOr<std::string> v = UnescapeVersion(tt.escaped);
    if (tt.error.empty()) {
      ASSERT_TRUE(v.ok()) << tt.escaped << ": " << v.status();
      EXPECT_EQ(*v, tt.version);
    } else {
      EXPECT_EQ(Message(v), tt.error);
    }
  }
}

// TestMatchPathMajor.
TEST(ModulePathTest, MatchPathMajor) {
  struct Case {
    std::string v;
    std::string path_major;
    bool want;
  };
  const std::vector<Case> tests = {
      {"v0.0.0", "", true},
      {"v0.0.0", "/v2", false},
      {"v0.0.0", ".v0", true},
      {"v0.0.0-20190510104115-cbcb75029529", ".v1", true},
      {"v1.0.0", "/v2", false},
      {"v1.0.0", ".v1", true},
      {"v1.0.0", ".v1-unstable", true},
      {"v2.0.0+incompatible", "", true},
      {"v2.0.0", "", false},
      {"v2.0.0", "/v2", true},
      {"v2.0.0", ".v2", true},
  };
  for (const Case& tt : tests) {
    EXPECT_EQ(MatchPathMajor(tt.v, tt.path_major), tt.want) << tt.v << " " << tt.path_major;
  }
}

TEST(ModulePathTest, CheckPathMajorMessages) {
  EXPECT_EQ(Message(CheckPathMajor("v2.0.0", "")),
            "version \"v2.0.0\" invalid: should be v0 or v1, not v2");
  EXPECT_EQ(Message(CheckPathMajor("v1.0.0", "/v2")),
            "version \"v1.0.0\" invalid: should be v2, not v1");
  EXPECT_EQ(Message(CheckPathMajor("v1.0.0", ".v2-unstable")),
            "version \"v1.0.0\" invalid: should be v2, not v1");
  EXPECT_EQ(Message(CheckPathMajor("bad", "/v2")), "version \"bad\" invalid: should be v2, not ");
  EXPECT_EQ(Message(CheckPathMajor("v1.0.0", "v2")),
            "version \"v1.0.0\" invalid: should be v2, not v1");
}

TEST(ModulePathTest, CanonicalVersion) {
  EXPECT_EQ(CanonicalVersion("v1.2"), "v1.2.0");
  EXPECT_EQ(CanonicalVersion("v1.2.3+meta"), "v1.2.3");
  EXPECT_EQ(CanonicalVersion("v2.0.0+incompatible"), "v2.0.0+incompatible");
  EXPECT_EQ(CanonicalVersion("v2.0+incompatible"), "");  // not semver: build needs X.Y.Z
  EXPECT_EQ(CanonicalVersion("master"), "");
}

}  // namespace
}  // namespace modgate::goproxy
