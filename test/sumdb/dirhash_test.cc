#include "source/sumdb/dirhash.h"

#include <fcntl.h>
#include <unistd.h>

#include <sstream>

#include "gtest/gtest.h"
#include "source/goproxy/module_path.h"
#include "source/sumdb/zip_hash.h"
#include "test/sumdb/fixture.h"

namespace modgate::sumdb {
namespace {

using testing::fixtureOrigin;
using testing::readFile;

TEST(Hash1Test, SummaryFormat) {
  // Two files, given out of order: sorted by name, "<hex>  <name>\n" each.
  auto hash = Hash1({{"b", Sha256::hash("B")}, {"a", Sha256::hash("A")}});
  ASSERT_TRUE(hash.ok());
  const std::string summary =
      crypto::toHex(Sha256::hash("A")) + "  a\n" + crypto::toHex(Sha256::hash("B")) + "  b\n";
  const Sha256Digest sum = Sha256::hash(summary);
  EXPECT_EQ(*hash, "h1:" + Base64Encode(sum.data(), sum.size()));
}

TEST(Hash1Test, NewlineInNameIsRefused) { EXPECT_FALSE(Hash1({{"a\nb", Sha256::hash("")}}).ok()); }

TEST(GoModHashTest, SynthesizedGoMod) {
  // github.com/pkg/errors has no go.mod: the proxy serves "module <path>\n",
  // and its go.sum hash is known from the fixture.
  EXPECT_EQ(GoModHash("module github.com/pkg/errors\n"),
            "h1:bwawxfHBFNV+L2hUp1rHADufV3IMtnDRdf1r5NINEl0=");
}

TEST(Base64Test, StrictDecoding) {
  EXPECT_EQ(Base64Decode("aGk="), std::optional<std::string>("hi"));
  EXPECT_FALSE(Base64Decode("aGk").has_value());
  EXPECT_FALSE(Base64Decode("aGk=\n").has_value());
  EXPECT_FALSE(Base64Decode("aG!=").has_value());
  EXPECT_FALSE(Base64Decode("aGl=").has_value());  // stray bits in the last group
}

// Every module version of the fixture: the zip (read from the file through
// minizip) and the .mod hash to exactly the go.sum lines of the database.
TEST(FixtureTest, EveryZipAndModMatchesGoSum) {
  SKIP_WITHOUT_FIXTURE();
  std::istringstream go_sum(readFile(fixtureOrigin() + "/go.sum"));
  std::string module, version, hash;
  int zips = 0, mods = 0;
  while (go_sum >> module >> version >> hash) {
    const bool go_mod = version.size() > 7 && version.substr(version.size() - 7) == "/go.mod";
    if (go_mod) version.resize(version.size() - 7);
    const std::string base = fixtureOrigin() + "/" + *goproxy::EscapePath(module) + "/@v/" +
                             *goproxy::EscapeVersion(version);
    if (go_mod) {
      EXPECT_EQ(GoModHash(readFile(base + ".mod")), hash) << module << " " << version;
      ++mods;
      continue;
    }
    const int fd = ::open((base + ".zip").c_str(), O_RDONLY | O_CLOEXEC);
    ASSERT_GE(fd, 0) << base;
    const off_t size = ::lseek(fd, 0, SEEK_END);
    auto zip_hash = HashZipFile(fd, 0, static_cast<uint64_t>(size));
    ::close(fd);
    ASSERT_TRUE(zip_hash.ok()) << base << ": " << zip_hash.status();
    EXPECT_EQ(*zip_hash, hash) << module << " " << version;
    ++zips;
  }
  EXPECT_EQ(zips, 46);
  EXPECT_EQ(mods, 46);
}

TEST(FixtureTest, ZipInsideALargerFileAndInMemory) {
  SKIP_WITHOUT_FIXTURE();
  const std::string zip = readFile(fixtureOrigin() + "/github.com/pkg/errors/@v/v0.9.1.zip");
  const std::string want = "h1:hOISDHPp68K3pi7Oct0vzL6O/Hg3IgQB5M6vmTEDsIk=";
  EXPECT_EQ(HashZipBytes(zip).value_or(""), want);
  // A cache entry's body follows a header: hash a window of a file.
  char path[] = "/tmp/zip_hash_test_XXXXXX";
  const int fd = ::mkstemp(path);
  ASSERT_GE(fd, 0);
  ::unlink(path);
  const std::string file = std::string(100, 'h') + zip + std::string(50, 't');
  ASSERT_EQ(::write(fd, file.data(), file.size()), static_cast<ssize_t>(file.size()));
  EXPECT_EQ(HashZipFile(fd, 100, zip.size()).value_or(""), want);
  ::close(fd);
}

TEST(FixtureTest, TamperedZipHashesDifferently) {
  SKIP_WITHOUT_FIXTURE();
  EXPECT_EQ(HashZipBytes(testing::tamperedErrorsZip()).value_or(""),
            testing::kTamperedErrorsZipHash);
}

TEST(FixtureTest, CorruptZipsAreErrorsNotHashes) {
  SKIP_WITHOUT_FIXTURE();
  const std::string zip = readFile(fixtureOrigin() + "/github.com/pkg/errors/@v/v0.9.1.zip");
  EXPECT_FALSE(HashZipBytes("").ok());
  EXPECT_FALSE(HashZipBytes("not a zip").ok());
  EXPECT_FALSE(HashZipBytes(zip.substr(0, zip.size() / 2)).ok());
  // A flipped byte inside compressed data: the CRC (or inflate) catches it.
  std::string flipped = zip;
  flipped[200] ^= 0x40;
  EXPECT_FALSE(HashZipBytes(flipped).ok());
  ZipLimits small;
  small.max_uncompressed_bytes = 1000;
  auto limited = HashZipBytes(zip, small);
  ASSERT_FALSE(limited.ok());
  EXPECT_NE(limited.status().message().find("uncompressed"), std::string::npos);
}

}  // namespace
}  // namespace modgate::sumdb
