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

#define SKIP_WITHOUT_FIXTURE()                                            \
  if (::modgate::sumdb::testing::fixtureOrigin().empty()) {               \
    GTEST_SKIP() << "MODGATE_FIXTURE_ORIGIN is not set (see ~/.bazelrc)"; \
  }

}  // namespace modgate::sumdb::testing
