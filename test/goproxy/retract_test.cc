#include "source/goproxy/retract.h"

#include <gtest/gtest.h>

namespace modgate::goproxy {
namespace {

TEST(Retract, FixtureFsnotifyBlock) {
  // The go.mod of github.com/fsnotify/fsnotify v1.6.0 in the fixture origin.
  auto intervals = ParseRetractions(R"(module github.com/fsnotify/fsnotify

go 1.16

require golang.org/x/sys v0.0.0-20220908164124-27713097b956

retract (
	v1.5.3 // Published an incorrect branch accidentally https://github.com/fsnotify/fsnotify/issues/445
	v1.5.0 // Contains symlink regression https://github.com/fsnotify/fsnotify/pull/394
)
)");
  ASSERT_EQ(intervals.size(), 2u);
  EXPECT_TRUE(IsRetracted(intervals, "v1.5.0"));
  EXPECT_TRUE(IsRetracted(intervals, "v1.5.3"));
  EXPECT_FALSE(IsRetracted(intervals, "v1.5.1"));
  EXPECT_FALSE(IsRetracted(intervals, "v1.6.0"));
}

TEST(Retract, SingleLinesIntervalsQuotesAndComments) {
  auto intervals = ParseRetractions(
      "module example.com/m\n"
      "retract v0.1.0 // oops\n"
      "retract [v1.0.0, v1.2.0]\n"
      "retract \"v2.0.0-rc.1\"\n"
      "// retract v9.9.9\n"
      "retracted v3.0.0\n"
      "retract(\n[v4.0.0,v4.0.5]\n)\n");
  ASSERT_EQ(intervals.size(), 4u);
  EXPECT_TRUE(IsRetracted(intervals, "v0.1.0"));
  EXPECT_TRUE(IsRetracted(intervals, "v1.0.0"));
  EXPECT_TRUE(IsRetracted(intervals, "v1.1.7"));
  EXPECT_TRUE(IsRetracted(intervals, "v1.2.0"));
  EXPECT_FALSE(IsRetracted(intervals, "v1.2.1"));
  EXPECT_TRUE(IsRetracted(intervals, "v2.0.0-rc.1"));
  EXPECT_FALSE(IsRetracted(intervals, "v9.9.9"));
  EXPECT_FALSE(IsRetracted(intervals, "v3.0.0"));
  EXPECT_TRUE(IsRetracted(intervals, "v4.0.3"));
}

TEST(Retract, MalformedDirectivesAreSkipped) {
  auto intervals = ParseRetractions(
      "retract [v1.2.0, v1.0.0]\nretract [v1.0.0\nretract latest\nretract\nretract v1.0.1\n");
  ASSERT_EQ(intervals.size(), 1u);
  EXPECT_TRUE(IsRetracted(intervals, "v1.0.1"));
  EXPECT_TRUE(ParseRetractions("").empty());
}

TEST(Retract, LatestForRetractions) {
  EXPECT_EQ(LatestForRetractions({"v1.5.0", "v1.6.0", "v1.5.4"}), "v1.6.0");
  EXPECT_EQ(LatestForRetractions({"v1.0.0", "v2.0.0-rc.1"}), "v1.0.0");
  EXPECT_EQ(LatestForRetractions({"v2.0.0-rc.1", "v2.0.0-beta"}), "v2.0.0-rc.1");
  EXPECT_EQ(LatestForRetractions({"", "junk"}), "");
  EXPECT_EQ(LatestForRetractions({"v2.1.0+incompatible", "v2.0.0+incompatible"}),
            "v2.1.0+incompatible");
}

}  // namespace
}  // namespace modgate::goproxy
