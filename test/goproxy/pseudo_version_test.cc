// Cases ported from golang.org/x/mod/module/pseudo_test.go.
#include "source/goproxy/pseudo_version.h"

#include <string>
#include <utility>
#include <vector>

#include "gtest/gtest.h"

namespace modgate::goproxy {
namespace {

struct Case {
  std::string major;
  std::string older;    // the tagged version it is based on
  std::string version;  // PseudoVersion(major, older, 2006-01-02T15:04:05Z, "hash")
};

const std::vector<Case>& PseudoTests() {
  static const auto* tests = new std::vector<Case>{
      {"", "", "v0.0.0-20060102150405-hash"},
      {"v0", "", "v0.0.0-20060102150405-hash"},
      {"v1", "", "v1.0.0-20060102150405-hash"},
      {"v2", "", "v2.0.0-20060102150405-hash"},
      {"unused", "v0.0.0", "v0.0.1-0.20060102150405-hash"},
      {"unused", "v1.2.3", "v1.2.4-0.20060102150405-hash"},
      {"unused", "v1.2.99999999999999999", "v1.2.100000000000000000-0.20060102150405-hash"},
      {"unused", "v1.2.3-pre", "v1.2.3-pre.0.20060102150405-hash"},
      {"unused", "v1.3.0-pre", "v1.3.0-pre.0.20060102150405-hash"},
      {"unused", "v0.0.0--", "v0.0.0--.0.20060102150405-hash"},
      {"unused", "v1.0.0+metadata", "v1.0.1-0.20060102150405-hash+metadata"},
      {"unused", "v2.0.0+incompatible", "v2.0.1-0.20060102150405-hash+incompatible"},
      {"unused", "v2.3.0-pre+incompatible", "v2.3.0-pre.0.20060102150405-hash+incompatible"},
  };
  return *tests;
}

TEST(PseudoVersionTest, IsPseudoVersion) {
  for (const Case& tt : PseudoTests()) {
    EXPECT_TRUE(IsPseudoVersion(tt.version)) << tt.version;
    EXPECT_FALSE(IsPseudoVersion(tt.older)) << tt.older;
  }
}

TEST(PseudoVersionTest, Timestamp) {
  for (const Case& tt : PseudoTests()) {
    absl::StatusOr<std::string> ts = PseudoVersionTimestamp(tt.version);
    ASSERT_TRUE(ts.ok()) << tt.version << ": " << ts.status();
    EXPECT_EQ(*ts, "20060102150405");
    EXPECT_FALSE(PseudoVersionTimestamp(tt.older).ok()) << tt.older;
  }
}

TEST(PseudoVersionTest, InvalidTimestamp) {
  EXPECT_FALSE(PseudoVersionTimestamp("---").ok());
  const absl::StatusOr<std::string> ts = PseudoVersionTimestamp("v0.0.0-20061302150405-hash");
  ASSERT_FALSE(ts.ok());
  EXPECT_EQ(ts.status().message(),
            "pseudo-version \"v0.0.0-20061302150405-hash\" invalid: malformed time "
            "\"20061302150405\"");
  EXPECT_FALSE(PseudoVersionTimestamp("v0.0.0-20060230150405-hash").ok());  // Feb 30
  EXPECT_TRUE(PseudoVersionTimestamp("v0.0.0-20040229150405-hash").ok());   // leap day
  EXPECT_FALSE(PseudoVersionTimestamp("v0.0.0-21000229150405-hash").ok());  // not leap
  EXPECT_FALSE(PseudoVersionTimestamp("v0.0.0-20060102240405-hash").ok());  // hour 24
}

TEST(PseudoVersionTest, Rev) {
  for (const Case& tt : PseudoTests()) {
    absl::StatusOr<std::string> rev = PseudoVersionRev(tt.version);
    ASSERT_TRUE(rev.ok()) << tt.version << ": " << rev.status();
    EXPECT_EQ(*rev, "hash");
    rev = PseudoVersionRev(tt.older);
    EXPECT_FALSE(rev.ok()) << tt.older;
  }
  EXPECT_EQ(PseudoVersionRev("v1.2.3").status().message(),
            "pseudo-version \"v1.2.3\" invalid: syntax error");
}

TEST(PseudoVersionTest, Base) {
  for (const Case& tt : PseudoTests()) {
    absl::StatusOr<std::string> base = PseudoVersionBase(tt.version);
    ASSERT_TRUE(base.ok()) << tt.version << ": " << base.status();
    EXPECT_EQ(*base, tt.older) << tt.version;
  }
}

TEST(PseudoVersionTest, InvalidBase) {
  for (const char* in : {
           "v0.0.0",
           "v0.0.0-",                                  // malformed: empty prerelease
           "v0.0.0-0.20060102150405-hash",             // Z+1 == 0
           "v0.1.0-0.20060102150405-hash",             // Z+1 == 0
           "v1.0.0-0.20060102150405-hash",             // Z+1 == 0
           "v0.0.0-20060102150405-hash+incompatible",  // +incompatible without base version
           "v0.0.0-20060102150405-hash+metadata",      // other metadata without base version
       }) {
    EXPECT_FALSE(PseudoVersionBase(in).ok()) << in;
  }
  EXPECT_EQ(PseudoVersionBase("v1.0.0-0.20060102150405-hash").status().message(),
            "pseudo-version \"v1.0.0-0.20060102150405-hash\" invalid: version before v1.0.0 "
            "would have negative patch number");
}

// Beyond Go's table: the regular expression's edges. Expected values are
// module.IsPseudoVersion's answers (Debian's golang.org/x/mod, go1.19).
TEST(PseudoVersionTest, MoreCasesCheckedAgainstGo) {
  const std::vector<std::pair<std::string, bool>> tests = {
      {"v0.0.0-20191109021931-daa7c04131f5", true},
      {"v1.5.1-0.20200101000000-0123456789ab", true},
      {"v1.2.3-rc.1.0.20200101000000-0123456789ab", true},
      {"v1.2.3-rc1.0.20200101000000-0123456789ab", true},
      {"v1.2.3-rc10.20200101000000-0123456789ab", false},
      {"v1.0.0-2019110902193-daa7c04131f5", false},
      {"v1.0.0-201911090219310-daa7c04131f5", false},
      {"v1.2.0-20191109021931-daa7c04131f5", false},
      {"v1.2.3-0.20191109021931-", false},
      {"v1.2.3", false},
      {"v1.2.3-pre", false},
      {"master", false},
      {"", false},
      {"v1.2.3-0.20191109021931-abc+incompatible", true},
      {"v1.2.3-0.20191109021931-abc+x.y", true},
      {"v1.2.3-x-0.20191109021931-abc", false},
      {"v1.2.3-0.0.20191109021931-abc", true},
  };
  for (const auto& [v, want] : tests) {
    EXPECT_EQ(IsPseudoVersion(v), want) << v;
  }
}

}  // namespace
}  // namespace modgate::goproxy
