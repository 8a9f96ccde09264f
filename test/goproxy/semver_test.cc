// Cases ported from golang.org/x/mod/semver/semver_test.go.
#include "source/goproxy/semver.h"

#include <algorithm>
#include <random>
#include <string>
#include <vector>

#include "gtest/gtest.h"

namespace modgate::goproxy::semver {
namespace {

struct Case {
  std::string in;
  std::string out;  // canonical form; "" if invalid
};

// In increasing order of precedence (equal canonical forms compare equal).
const std::vector<Case>& Tests() {
  static const auto* tests = new std::vector<Case>{
      {"bad", ""},
      {"v1-alpha.beta.gamma", ""},
      {"v1-pre", ""},
      {"v1+meta", ""},
      {"v1-pre+meta", ""},
      {"v1.2-pre", ""},
      {"v1.2+meta", ""},
      {"v1.2-pre+meta", ""},
      {"v1.0.0-alpha", "v1.0.0-alpha"},
      {"v1.0.0-alpha.1", "v1.0.0-alpha.1"},
      {"v1.0.0-alpha.beta", "v1.0.0-alpha.beta"},
      {"v1.0.0-beta", "v1.0.0-beta"},
      {"v1.0.0-beta.2", "v1.0.0-beta.2"},
      {"v1.0.0-beta.11", "v1.0.0-beta.11"},
      {"v1.0.0-rc.1", "v1.0.0-rc.1"},
      {"v1", "v1.0.0"},
      {"v1.0", "v1.0.0"},
      {"v1.0.0", "v1.0.0"},
      {"v1.2", "v1.2.0"},
      {"v1.2.0", "v1.2.0"},
      {"v1.2.3-456", "v1.2.3-456"},
      {"v1.2.3-456.789", "v1.2.3-456.789"},
      {"v1.2.3-456-789", "v1.2.3-456-789"},
      {"v1.2.3-456a", "v1.2.3-456a"},
      {"v1.2.3-pre", "v1.2.3-pre"},
      {"v1.2.3-pre+meta", "v1.2.3-pre"},
      {"v1.2.3-pre.1", "v1.2.3-pre.1"},
      {"v1.2.3-zzz", "v1.2.3-zzz"},
      {"v1.2.3", "v1.2.3"},
      {"v1.2.3+meta", "v1.2.3"},
      {"v1.2.3+meta-pre", "v1.2.3"},
      {"v1.2.3+meta-pre.sha.256a", "v1.2.3"},
  };
  return *tests;
}

TEST(SemverTest, IsValid) {
  for (const Case& tt : Tests()) {
    EXPECT_EQ(IsValid(tt.in), !tt.out.empty()) << tt.in;
  }
}

TEST(SemverTest, Canonical) {
  for (const Case& tt : Tests()) {
    EXPECT_EQ(Canonical(tt.in), tt.out) << tt.in;
  }
}

TEST(SemverTest, Major) {
  for (const Case& tt : Tests()) {
    std::string want;
    if (size_t i = tt.out.find('.'); i != std::string::npos) want = tt.out.substr(0, i);
    EXPECT_EQ(Major(tt.in), want) << tt.in;
  }
}

TEST(SemverTest, MajorMinor) {
  for (const Case& tt : Tests()) {
    std::string want;
    if (!tt.out.empty()) {
      want = tt.in;
      if (size_t i = want.find('+'); i != std::string::npos) want = want.substr(0, i);
      if (size_t i = want.find('-'); i != std::string::npos) want = want.substr(0, i);
      switch (std::count(want.begin(), want.end(), '.')) {
        case 0:
          want += ".0";
          break;
        case 1:
          break;
        case 2:
          want = want.substr(0, want.rfind('.'));
          break;
      }
    }
    EXPECT_EQ(MajorMinor(tt.in), want) << tt.in;
  }
}

TEST(SemverTest, Prerelease) {
  for (const Case& tt : Tests()) {
    std::string want;
    if (!tt.out.empty()) {
      if (size_t i = tt.out.find('-'); i != std::string::npos) want = tt.out.substr(i);
    }
    EXPECT_EQ(Prerelease(tt.in), want) << tt.in;
  }
}

TEST(SemverTest, Build) {
  for (const Case& tt : Tests()) {
    std::string want;
    if (!tt.out.empty()) {
      if (size_t i = tt.in.find('+'); i != std::string::npos) want = tt.in.substr(i);
    }
    EXPECT_EQ(Build(tt.in), want) << tt.in;
  }
}

TEST(SemverTest, Compare) {
  const auto& tests = Tests();
  for (size_t i = 0; i < tests.size(); ++i) {
    for (size_t j = 0; j < tests.size(); ++j) {
      int want;
      if (tests[i].out == tests[j].out) {
        want = 0;
      } else if (i < j) {
        want = -1;
      } else {
        want = +1;
      }
      EXPECT_EQ(Compare(tests[i].in, tests[j].in), want) << tests[i].in << " vs " << tests[j].in;
    }
  }
}

// semver.Sort / ByVersion: Compare, ties broken by string order.
TEST(SemverTest, SortIsConsistent) {
  std::vector<std::string> versions;
  for (const Case& tt : Tests()) versions.push_back(tt.in);
  std::mt19937 rng(1);
  std::shuffle(versions.begin(), versions.end(), rng);
  const auto less = [](const std::string& a, const std::string& b) {
    const int c = Compare(a, b);
    return c != 0 ? c < 0 : a < b;
  };
  std::sort(versions.begin(), versions.end(), less);
  EXPECT_TRUE(std::is_sorted(versions.begin(), versions.end(), less));
}

// From the benchmark in semver_test.go: build metadata never affects order.
TEST(SemverTest, BuildMetadataIgnoredInCompare) {
  EXPECT_EQ(Compare("v1.0.0+metadata-dash", "v1.0.0+metadata-dash1"), 0);
}

// Beyond Go's table: corners of the grammar.
TEST(SemverTest, MoreCases) {
  EXPECT_FALSE(IsValid(""));
  EXPECT_FALSE(IsValid("v"));
  EXPECT_FALSE(IsValid("1.2.3"));
  EXPECT_FALSE(IsValid("v01.2.3"));
  EXPECT_FALSE(IsValid("v1.02.3"));
  EXPECT_FALSE(IsValid("v1.2.03"));
  EXPECT_FALSE(IsValid("v1.2.3-01"));  // numeric prerelease with leading zero
  EXPECT_TRUE(IsValid("v1.2.3-0a"));   // alphanumeric may start with 0
  EXPECT_FALSE(IsValid("v1.2.3-"));
  EXPECT_FALSE(IsValid("v1.2.3-a..b"));
  EXPECT_FALSE(IsValid("v1.2.3+"));
  EXPECT_FALSE(IsValid("v1.2.3+a..b"));
  EXPECT_TRUE(IsValid("v1.2.3+01"));  // build identifiers may have leading zeros
  EXPECT_FALSE(IsValid("v1.2.3.4"));
  EXPECT_FALSE(IsValid("v1.2.3_x"));
  EXPECT_TRUE(IsValid("v0.0.0"));
  EXPECT_EQ(Canonical("v2.0.0+incompatible"), "v2.0.0");
  EXPECT_EQ(Build("v2.0.0+incompatible"), "+incompatible");
  EXPECT_EQ(Major("v10.2.3"), "v10");
  EXPECT_EQ(MajorMinor("v1.2.3-pre+x"), "v1.2");
  EXPECT_EQ(Compare("v1.10.0", "v1.9.0"), 1);
  EXPECT_EQ(Compare("v1.0.0-rc.10", "v1.0.0-rc.9"), 1);
  EXPECT_EQ(Compare("v1.0.0-1", "v1.0.0-a"), -1);
  EXPECT_EQ(Compare("bad", "v0.0.0"), -1);
  EXPECT_EQ(Compare("bad", "worse"), 0);
  EXPECT_EQ(Compare("v100000000000000000000.0.0", "v99999999999999999999.0.0"), 1);
}

// The same functions are reachable directly in modgate::goproxy.
TEST(SemverTest, AliasesInGoproxyNamespace) {
  EXPECT_TRUE(goproxy::IsValid("v1.2.3"));
  EXPECT_EQ(goproxy::Canonical("v1.2"), "v1.2.0");
  EXPECT_EQ(goproxy::Compare("v1.2.3", "v1.2.4"), -1);
}

}  // namespace
}  // namespace modgate::goproxy::semver
