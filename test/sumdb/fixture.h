#pragma once

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>

#include "gtest/gtest.h"

namespace modgate::sumdb::testing {

// The shared fixture origin (a real module tree with a signed checksum
// database), or "" when the environment does not name one.
inline std::string fixtureOrigin() {
  const char* dir = std::getenv("MODGATE_FIXTURE_ORIGIN");
  return dir == nullptr ? "" : std::string(dir);
}

inline constexpr char kFixtureKey[] =
    "sum.fixtures.test+a733dd48+AY9Q8ECTLcaRVtzVsWvVXm5cCGZQmET8PcGu0AS+E5Gw";

inline std::string readFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

// github.com/pkg/errors@v0.9.1's zip and its go.sum hash.
inline constexpr char kErrorsZipPath[] = "/github.com/pkg/errors/@v/v0.9.1.zip";
inline constexpr char kErrorsZipHash[] = "h1:hOISDHPp68K3pi7Oct0vzL6O/Hg3IgQB5M6vmTEDsIk=";

// The fixtures README's tampering of that zip: one letter of a name in the
// central directory only (stack.go -> rtack.go; its local header still says
// stack.go) keeps the zip valid, with another hash.
inline constexpr char kTamperedErrorsZipHash[] = "h1:J/3p0L/X4misjQOMIx6IjUo8C7q7lA/S30P3TujMPUI=";
inline std::string tamperedErrorsZip() {
  std::string zip = readFile(fixtureOrigin() + kErrorsZipPath);
  const std::string name = "github.com/pkg/errors@v0.9.1/stack.go";
  const size_t at = zip.rfind(name);
  EXPECT_NE(at, std::string::npos);
  if (at != std::string::npos) zip[at + name.size() - 8] ^= 1;
  return zip;
}

#define SKIP_WITHOUT_FIXTURE()                                            \
  if (::modgate::sumdb::testing::fixtureOrigin().empty()) {               \
    GTEST_SKIP() << "MODGATE_FIXTURE_ORIGIN is not set (see ~/.bazelrc)"; \
  }

}  // namespace modgate::sumdb::testing
