#include "source/sumdb/streaming_zip_hash.h"

#include <fcntl.h>
#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <random>
#include <sstream>

#include "gtest/gtest.h"
#include "source/goproxy/module_path.h"
#include "source/sumdb/zip_hash.h"
#include "test/sumdb/fixture.h"

namespace modgate::sumdb {
namespace {

using testing::fixtureOrigin;
using testing::readFile;

// Feeds `zip` in chunks of `chunk` bytes (0: random sizes up to 64 KiB).
std::optional<std::string> streamHash(const std::string& zip, size_t chunk,
                                      const ZipLimits& limits = {}) {
  StreamingZipHasher hasher(limits);
  std::mt19937 random(static_cast<uint32_t>(zip.size()));
  size_t at = 0;
  while (at < zip.size()) {
    const size_t size = chunk != 0 ? chunk : 1 + random() % (64 * 1024);
    const size_t take = std::min(size, zip.size() - at);
    hasher.update(std::string_view(zip).substr(at, take));
    at += take;
  }
  return hasher.finishBytes(zip);
}

// What the sink does: the streamed hash, or else the file pass's answer.
absl::StatusOr<std::string> hashWithFallback(const std::string& zip, size_t chunk) {
  if (auto streamed = streamHash(zip, chunk); streamed.has_value()) return *streamed;
  return HashZipBytes(zip);
}

// A zip written byte by byte, so tests can make its local headers and its
// central directory disagree.
struct TestEntry {
  std::string name;
  std::string content;
  uint16_t method = 8;
  bool descriptor = true;
  bool descriptor_signature = true;
  uint16_t extra_flags = 0;
};

// What the central directory says of an entry (tests edit it).
struct CentralRecord {
  std::string name;
  uint16_t flags = 0;
  uint16_t method = 0;
  uint32_t crc = 0;
  uint32_t compressed_size = 0;
  uint32_t uncompressed_size = 0;
  uint32_t local_offset = 0;
};

void put16(std::string& out, uint16_t v) {
  out.push_back(static_cast<char>(v & 0xff));
  out.push_back(static_cast<char>(v >> 8));
}
void put32(std::string& out, uint32_t v) {
  put16(out, static_cast<uint16_t>(v & 0xffff));
  put16(out, static_cast<uint16_t>(v >> 16));
}

std::string deflateRaw(const std::string& in) {
  z_stream z{};
  EXPECT_EQ(deflateInit2(&z, 6, Z_DEFLATED, -MAX_WBITS, 8, Z_DEFAULT_STRATEGY), Z_OK);
  std::string out(deflateBound(&z, in.size()), '\0');
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
  z.avail_in = static_cast<uInt>(in.size());
  z.next_out = reinterpret_cast<Bytef*>(out.data());
  z.avail_out = static_cast<uInt>(out.size());
  EXPECT_EQ(deflate(&z, Z_FINISH), Z_STREAM_END);
  out.resize(z.total_out);
  deflateEnd(&z);
  return out;
}

uint32_t crcOf(const std::string& s) {
  return static_cast<uint32_t>(
      crc32(0, reinterpret_cast<const Bytef*>(s.data()), static_cast<uInt>(s.size())));
}

// Appends the local header, data and descriptor of `entry` to `zip`.
CentralRecord writeLocal(std::string& zip, const TestEntry& entry) {
  CentralRecord record;
  record.name = entry.name;
  record.method = entry.method;
  record.flags = static_cast<uint16_t>((entry.descriptor ? 0x8 : 0) | entry.extra_flags);
  record.crc = crcOf(entry.content);
  const std::string data = entry.method == 8 ? deflateRaw(entry.content) : entry.content;
  record.compressed_size = static_cast<uint32_t>(data.size());
  record.uncompressed_size = static_cast<uint32_t>(entry.content.size());
  record.local_offset = static_cast<uint32_t>(zip.size());
  put32(zip, 0x04034b50);
  put16(zip, 20);
  put16(zip, record.flags);
  put16(zip, record.method);
  put32(zip, 0);  // time and date
  put32(zip, entry.descriptor ? 0 : record.crc);
  put32(zip, entry.descriptor ? 0 : record.compressed_size);
  put32(zip, entry.descriptor ? 0 : record.uncompressed_size);
  put16(zip, static_cast<uint16_t>(entry.name.size()));
  put16(zip, 0);
  zip += entry.name;
  zip += data;
  if (entry.descriptor) {
    if (entry.descriptor_signature) put32(zip, 0x08074b50);
    put32(zip, record.crc);
    put32(zip, record.compressed_size);
    put32(zip, record.uncompressed_size);
  }
  return record;
}

void writeCentral(std::string& zip, const std::vector<CentralRecord>& records) {
  const uint32_t start = static_cast<uint32_t>(zip.size());
  for (const CentralRecord& r : records) {
    put32(zip, 0x02014b50);
    put16(zip, 20);
    put16(zip, 20);
    put16(zip, r.flags);
    put16(zip, r.method);
    put32(zip, 0);
    put32(zip, r.crc);
    put32(zip, r.compressed_size);
    put32(zip, r.uncompressed_size);
    put16(zip, static_cast<uint16_t>(r.name.size()));
    put16(zip, 0);  // extra
    put16(zip, 0);  // comment
    put16(zip, 0);  // disk
    put16(zip, 0);  // internal attributes
    put32(zip, 0);  // external attributes
    put32(zip, r.local_offset);
    zip += r.name;
  }
  const uint32_t size = static_cast<uint32_t>(zip.size()) - start;
  put32(zip, 0x06054b50);
  put32(zip, 0);
  put16(zip, static_cast<uint16_t>(records.size()));
  put16(zip, static_cast<uint16_t>(records.size()));
  put32(zip, size);
  put32(zip, start);
  put16(zip, 0);
}

std::string buildZip(const std::vector<TestEntry>& entries) {
  std::string zip;
  std::vector<CentralRecord> records;
  for (const TestEntry& entry : entries) records.push_back(writeLocal(zip, entry));
  writeCentral(zip, records);
  return zip;
}

const std::vector<TestEntry> kEntries = {
    {"m@v1.0.0/go.mod", "module m\n"},
    {"m@v1.0.0/a.go", std::string(100000, 'a') + "package m\n"},
    {"m@v1.0.0/empty.txt", ""},
    {"m@v1.0.0/b.go", "package m // b\n"},
};

TEST(StreamingZipHashTest, CraftedZipsStreamToHashZipFilesHash) {
  std::vector<std::vector<TestEntry>> cases;
  cases.push_back(kEntries);  // deflated, descriptors with signature (Go's writer)
  std::vector<TestEntry> no_signature = kEntries;
  for (TestEntry& e : no_signature) e.descriptor_signature = false;
  cases.push_back(no_signature);
  std::vector<TestEntry> no_descriptor = kEntries;
  for (TestEntry& e : no_descriptor) e.descriptor = false;
  cases.push_back(no_descriptor);
  std::vector<TestEntry> stored = kEntries;
  for (TestEntry& e : stored) {
    e.method = 0;
    e.descriptor = false;
  }
  cases.push_back(stored);
  std::vector<TestEntry> mixed = kEntries;
  mixed[1].method = 0;
  mixed[1].descriptor = false;
  mixed[3].descriptor_signature = false;
  cases.push_back(mixed);
  for (size_t i = 0; i < cases.size(); ++i) {
    const std::string zip = buildZip(cases[i]);
    auto want = HashZipBytes(zip);
    ASSERT_TRUE(want.ok()) << i << ": " << want.status();
    for (size_t chunk : {1, 7, 64 * 1024, 0}) {
      EXPECT_EQ(streamHash(zip, chunk), std::optional<std::string>(*want))
          << "case " << i << " chunk " << chunk;
    }
  }
}

TEST(StreamingZipHashTest, FinishFromAFileWindow) {
  const std::string zip = buildZip(kEntries);
  char path[] = "/tmp/streaming_zip_hash_test_XXXXXX";
  const int fd = ::mkstemp(path);
  ASSERT_GE(fd, 0);
  ::unlink(path);
  const std::string file = std::string(100, 'h') + zip + std::string(50, 't');
  ASSERT_EQ(::write(fd, file.data(), file.size()), static_cast<ssize_t>(file.size()));
  StreamingZipHasher hasher;
  hasher.update(zip);
  EXPECT_EQ(hasher.finishFile(fd, 100, zip.size()), std::optional<std::string>(*HashZipBytes(zip)));
  ::close(fd);
}

// The central directory is the authority: when it does not name exactly
// what streamed, the answer is HashZipFile's (a hash or an error).
void expectFallback(const std::string& zip, const std::string& what) {
  for (size_t chunk : {1, 7, 64 * 1024}) {
    EXPECT_EQ(streamHash(zip, chunk), std::nullopt) << what << " chunk " << chunk;
  }
  const absl::StatusOr<std::string> want = HashZipBytes(zip);
  const absl::StatusOr<std::string> got = hashWithFallback(zip, 7);
  EXPECT_EQ(got.ok(), want.ok()) << what;
  if (got.ok() && want.ok()) {
    EXPECT_EQ(*got, *want) << what;
  }
}

// Whether or not the stream is used, the answer is HashZipFile's.
void expectSameAnswer(const std::string& zip, const std::string& what) {
  const absl::StatusOr<std::string> want = HashZipBytes(zip);
  for (size_t chunk : {1, 7, 64 * 1024}) {
    const std::optional<std::string> streamed = streamHash(zip, chunk);
    if (streamed.has_value()) {
      EXPECT_TRUE(want.ok()) << what << " chunk " << chunk;
      EXPECT_EQ(*streamed, want.value_or("")) << what << " chunk " << chunk;
    }
  }
}

TEST(StreamingZipHashTest, HiddenEntryOnlyInTheLocalStream) {
  std::string zip;
  std::vector<CentralRecord> records;
  for (const TestEntry& entry : kEntries) records.push_back(writeLocal(zip, entry));
  records.erase(records.begin() + 1);
  writeCentral(zip, records);
  ASSERT_TRUE(HashZipBytes(zip).ok());
  expectFallback(zip, "hidden entry");
}

TEST(StreamingZipHashTest, RenamedInTheCentralDirectory) {
  std::string zip;
  std::vector<CentralRecord> records;
  for (const TestEntry& entry : kEntries) records.push_back(writeLocal(zip, entry));
  records[3].name = "m@v1.0.0/c.go";  // same length: the local header still checks out
  writeCentral(zip, records);
  ASSERT_TRUE(HashZipBytes(zip).ok());
  expectFallback(zip, "renamed entry");
}

TEST(StreamingZipHashTest, CentralDirectoryPointsAtOtherContentWithMatchingCrc) {
  // Two local entries of the same name; the central directory lists one,
  // with the first's CRC and sizes but the second's offset: the go command
  // reads the second's content.
  std::string zip;
  TestEntry first = kEntries[3];
  TestEntry second = first;
  second.content = "package m // evil\n";
  CentralRecord a = writeLocal(zip, first);
  CentralRecord b = writeLocal(zip, second);
  CentralRecord listed = a;
  listed.local_offset = b.local_offset;
  writeCentral(zip, {listed});
  expectFallback(zip, "other content");
  // The CRC is the central directory's: reading the second's content fails it.
  EXPECT_FALSE(HashZipBytes(zip).ok());
}

TEST(StreamingZipHashTest, CrcOrSizeDisagreeingWithTheContent) {
  for (int field = 0; field < 3; ++field) {
    std::string zip;
    std::vector<CentralRecord> records;
    for (const TestEntry& entry : kEntries) records.push_back(writeLocal(zip, entry));
    if (field == 0) records[1].crc ^= 1;
    if (field == 1) records[1].uncompressed_size += 1;
    if (field == 2) records[1].uncompressed_size -= 1;
    writeCentral(zip, records);
    expectFallback(zip, "field " + std::to_string(field));
  }
}

TEST(StreamingZipHashTest, GivesUpOnWhatItDoesNotStream) {
  std::vector<TestEntry> stored_with_descriptor = kEntries;
  stored_with_descriptor[1].method = 0;
  std::vector<TestEntry> encrypted = kEntries;
  encrypted[0].extra_flags = 0x1;
  for (const auto& entries : {stored_with_descriptor, encrypted}) {
    const std::string zip = buildZip(entries);
    StreamingZipHasher hasher;
    hasher.update(zip);
    EXPECT_TRUE(hasher.gaveUp());
    expectFallback(zip, "unstreamable");
  }
  // Bytes before the first header (a self-extracting stub).
  expectFallback("stub" + buildZip(kEntries), "prefix");
}

TEST(StreamingZipHashTest, EmptyZipGetsHashZipFilesAnswer) {
  // minizip refuses a zip of no entries; the streamed answer must agree.
  expectSameAnswer(buildZip({}), "empty");
}

TEST(StreamingZipHashTest, LimitsMakeItGiveUp) {
  const std::string zip = buildZip(kEntries);
  ZipLimits few;
  few.max_entries = 3;
  EXPECT_EQ(streamHash(zip, 7, few), std::nullopt);
  ZipLimits small;
  small.max_uncompressed_bytes = 1000;
  EXPECT_EQ(streamHash(zip, 7, small), std::nullopt);
}

TEST(StreamingZipHashTest, TruncatedOrGarbage) {
  const std::string zip = buildZip(kEntries);
  for (size_t size :
       {size_t{0}, size_t{3}, size_t{40}, zip.size() / 2, zip.size() - 30, zip.size() - 1}) {
    const std::string part = zip.substr(0, size);
    if (size < zip.size() - 22) {
      EXPECT_EQ(streamHash(part, 7), std::nullopt) << size;
    }
    // minizip reads an end record missing its comment length; whatever it
    // says, the streamed answer is the same.
    expectSameAnswer(part, "truncated to " + std::to_string(size));
  }
  // Fed fewer bytes than the zip holds.
  StreamingZipHasher hasher;
  hasher.update(zip.substr(0, zip.size() - 10));
  EXPECT_EQ(hasher.finishBytes(zip), std::nullopt);
  expectFallback("not a zip at all, just text", "garbage");
}

// Every zip of the fixture origin (real module zips, Go's writer) streams
// to its go.sum hash in any chunking, without the file pass.
TEST(StreamingZipHashFixtureTest, EveryZipStreamsToItsGoSumHash) {
  SKIP_WITHOUT_FIXTURE();
  std::istringstream go_sum(readFile(fixtureOrigin() + "/go.sum"));
  std::string module, version, hash;
  int zips = 0;
  while (go_sum >> module >> version >> hash) {
    if (version.size() > 7 && version.substr(version.size() - 7) == "/go.mod") continue;
    const std::string path = fixtureOrigin() + "/" + *goproxy::EscapePath(module) + "/@v/" +
                             *goproxy::EscapeVersion(version) + ".zip";
    const std::string zip = readFile(path);
    // One byte at a time only where it stays quick.
    std::vector<size_t> chunks = {7, 64 * 1024, 0};
    if (zip.size() < (256 << 10)) chunks.push_back(1);
    for (size_t chunk : chunks) {
      EXPECT_EQ(streamHash(zip, chunk), std::optional<std::string>(hash))
          << module << " " << version << " chunk " << chunk;
    }
    ++zips;
  }
  EXPECT_EQ(zips, 46);
}

TEST(StreamingZipHashFixtureTest, TamperedCentralNameFallsBack) {
  SKIP_WITHOUT_FIXTURE();
  const std::string zip = testing::tamperedErrorsZip();
  expectFallback(zip, "tampered name");
  EXPECT_EQ(hashWithFallback(zip, 64 * 1024).value_or(""), testing::kTamperedErrorsZipHash);
}

}  // namespace
}  // namespace modgate::sumdb
