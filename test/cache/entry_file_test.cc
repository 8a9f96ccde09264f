#include "source/cache/entry_file.h"

#include <string>

#include "gtest/gtest.h"

namespace modgate::cache {
namespace {

TEST(EntryFileTest, PrefixRoundTrip) {
  std::string prefix = EncodePrefix(0x123456789, 0x4321);
  EXPECT_EQ(prefix.size(), kBodyOffset);
  EXPECT_EQ(prefix, "MODGATE100000001234567890004321\n");
  uint64_t body_size = 0;
  uint32_t meta_size = 0;
  ASSERT_TRUE(DecodePrefix(prefix, body_size, meta_size).ok());
  EXPECT_EQ(body_size, 0x123456789u);
  EXPECT_EQ(meta_size, 0x4321u);
}

TEST(EntryFileTest, BadPrefixesAreDataLoss) {
  uint64_t body_size;
  uint32_t meta_size;
  std::string good = EncodePrefix(10, 20);
  std::string zeros(kBodyOffset, '\0');
  std::string bad_magic = good;
  bad_magic[0] = 'X';
  std::string bad_hex = good;
  bad_hex[10] = 'g';
  std::string huge_meta = "MODGATE10000000000000010fffffff\n";
  for (const std::string& p : {zeros, bad_magic, bad_hex, good.substr(1), huge_meta}) {
    EXPECT_EQ(DecodePrefix(p, body_size, meta_size).code(), absl::StatusCode::kDataLoss) << p;
  }
}

TEST(EntryFileTest, MetaRoundTripEscapesValues) {
  EntryMeta meta;
  meta.status = 404;
  meta.content_type = "text/plain; charset=utf-8";
  meta.stored_at_unix_ms = 1700000000123;
  meta.expires_at_unix_ms = 1700000600123;
  meta.upstream_error = "line one\nline two\\ \"quoted\" \x01";
  std::string text = EncodeMeta("example.com/a/@latest", meta);
  std::string key;
  EntryMeta decoded;
  ASSERT_TRUE(DecodeMeta(text, key, decoded).ok());
  EXPECT_EQ(key, "example.com/a/@latest");
  EXPECT_EQ(decoded, meta);
}

TEST(EntryFileTest, MetaRoundTripKeepsValidators) {
  EntryMeta meta;
  meta.status = 200;
  meta.content_type = "text/plain; charset=utf-8";
  meta.stored_at_unix_ms = 1700000000123;
  meta.expires_at_unix_ms = 1700000060123;
  meta.etag = "\"0123456789abcdef0123456789abcdef\"";
  meta.upstream_etag = "W/\"up-1\"";
  meta.upstream_last_modified = "Sun, 06 Nov 1994 08:49:37 GMT";
  std::string text = EncodeMeta("example.com/a/@v/list", meta);
  std::string key;
  EntryMeta decoded;
  ASSERT_TRUE(DecodeMeta(text, key, decoded).ok());
  EXPECT_EQ(decoded, meta);
}

TEST(EntryFileTest, MetaFromBeforeValidatorsStillDecodes) {
  // What a cache written by an earlier modgate holds: no etag lines. Such an
  // entry is served without an ETag rather than dropped.
  std::string key;
  EntryMeta meta;
  ASSERT_TRUE(DecodeMeta("key example.com/a/@v/v1.0.0.zip\nstatus 200\ncontent-type "
                         "application/zip\nstored-at 1700000000123\nexpires-at 0\n",
                         key, meta)
                  .ok());
  EXPECT_EQ(meta.status, 200);
  EXPECT_EQ(meta.etag, "");
  EXPECT_EQ(meta.upstream_etag, "");
  EXPECT_EQ(meta.stored_at_unix_ms, 1700000000123);
}

TEST(EntryFileTest, MetaSkipsUnknownFieldsAndNeedsKeyAndStatus) {
  std::string key;
  EntryMeta meta;
  EXPECT_TRUE(DecodeMeta("key a\nstatus 200\nfuture-field x\n", key, meta).ok());
  EXPECT_FALSE(DecodeMeta("status 200\n", key, meta).ok());
  EXPECT_FALSE(DecodeMeta("key a\n", key, meta).ok());
  EXPECT_FALSE(DecodeMeta("key a\nstatus 200", key, meta).ok());  // truncated line
  EXPECT_FALSE(DecodeMeta("key a\nstatus two\n", key, meta).ok());
}

}  // namespace
}  // namespace modgate::cache
