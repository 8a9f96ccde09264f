// Request targets as the go command sends them (observed from go1.19 against a
// logging server: '!' goes out as %21 in module paths, '+' literally), and
// malformed variants.
#include "source/goproxy/request.h"

#include <optional>
#include <string>
#include <variant>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace modgate::goproxy {
namespace {

using ::testing::HasSubstr;

Request MustParse(std::string_view target) {
  std::variant<Request, RequestError> r = ParseRequest(target);
  if (auto* err = std::get_if<RequestError>(&r)) {
    ADD_FAILURE() << target << ": " << err->status << " " << err->reason;
    return Request{};
  }
  return std::get<Request>(std::move(r));
}

RequestError MustFail(std::string_view target) {
  std::variant<Request, RequestError> r = ParseRequest(target);
  if (auto* req = std::get_if<Request>(&r)) {
    ADD_FAILURE() << target << ": parsed, upstream_path " << req->upstream_path;
    return RequestError{0, ""};
  }
  RequestError err = std::get<RequestError>(std::move(r));
  EXPECT_EQ(err.reason.find('\n'), std::string::npos) << err.reason;
  return err;
}

TEST(RequestTest, InfoWithEscapedUpperCase) {
  const Request r = MustParse("/github.com/%21burnt%21sushi/toml/@v/v1.2.0.info");
  EXPECT_EQ(r.kind, RequestKind::kInfo);
  EXPECT_EQ(r.module, "github.com/BurntSushi/toml");
  EXPECT_EQ(r.escaped_module, "github.com/!burnt!sushi/toml");
  EXPECT_EQ(r.version, "v1.2.0");
  EXPECT_EQ(r.escaped_version, "v1.2.0");
  EXPECT_TRUE(r.canonical_version);
  EXPECT_TRUE(r.immutable());
  EXPECT_EQ(r.upstream_path, "/github.com/!burnt!sushi/toml/@v/v1.2.0.info");
  EXPECT_EQ(r.cache_key, "github.com/!burnt!sushi/toml/@v/v1.2.0.info");
  EXPECT_TRUE(r.sumdb_name.empty());
  EXPECT_TRUE(r.sumdb_path.empty());
}

TEST(RequestTest, RawBangIsTheSame) {
  const Request a = MustParse("/github.com/!burnt!sushi/toml/@v/list");
  const Request b = MustParse("/github.com/%21burnt%21sushi/toml/@v/list");
  EXPECT_EQ(a.kind, RequestKind::kList);
  EXPECT_EQ(a.module, "github.com/BurntSushi/toml");
  EXPECT_EQ(a.cache_key, b.cache_key);
  EXPECT_EQ(a.upstream_path, b.upstream_path);
  EXPECT_EQ(a.upstream_path, "/github.com/!burnt!sushi/toml/@v/list");
  EXPECT_FALSE(a.immutable());
}

TEST(RequestTest, IncompatibleZip) {
  const Request r = MustParse("/github.com/patrickmn/go-cache/@v/v2.1.0+incompatible.zip");
  EXPECT_EQ(r.kind, RequestKind::kZip);
  EXPECT_EQ(r.module, "github.com/patrickmn/go-cache");
  EXPECT_EQ(r.version, "v2.1.0+incompatible");
  EXPECT_TRUE(r.canonical_version);
  EXPECT_TRUE(r.immutable());
  EXPECT_EQ(r.upstream_path, "/github.com/patrickmn/go-cache/@v/v2.1.0+incompatible.zip");
  EXPECT_EQ(r.cache_key, "github.com/patrickmn/go-cache/@v/v2.1.0+incompatible.zip");
}

TEST(RequestTest, PlusIsNeverASpace) {
  const Request r = MustParse("/github.com/patrickmn/go-cache/@v/v2.1.0%2Bincompatible.info");
  EXPECT_EQ(r.version, "v2.1.0+incompatible");
  EXPECT_EQ(r.upstream_path, "/github.com/patrickmn/go-cache/@v/v2.1.0+incompatible.info");
}

TEST(RequestTest, Mod) {
  const Request r = MustParse("/golang.org/x/mod/@v/v0.8.0.mod");
  EXPECT_EQ(r.kind, RequestKind::kMod);
  EXPECT_EQ(r.module, "golang.org/x/mod");
  EXPECT_TRUE(r.immutable());
  EXPECT_EQ(r.cache_key, "golang.org/x/mod/@v/v0.8.0.mod");
}

TEST(RequestTest, Latest) {
  const Request r = MustParse("/gopkg.in/check.v1/@latest");
  EXPECT_EQ(r.kind, RequestKind::kLatest);
  EXPECT_EQ(r.module, "gopkg.in/check.v1");
  EXPECT_FALSE(r.immutable());
  EXPECT_EQ(r.upstream_path, "/gopkg.in/check.v1/@latest");
  EXPECT_EQ(r.cache_key, "gopkg.in/check.v1/@latest");
}

TEST(RequestTest, PathPrefixesTheGoCommandProbes) {
  // Resolving gopkg.in/check.v1 the go command also asks for "gopkg.in".
  EXPECT_EQ(MustParse("/gopkg.in/@v/list").module, "gopkg.in");
  EXPECT_EQ(MustParse("/gopkg.in/check.v1/@v/list").module, "gopkg.in/check.v1");
}

TEST(RequestTest, MajorVersionSuffixes) {
  EXPECT_TRUE(MustParse("/github.com/go-yaml/yaml/v2/@v/v2.1.5.zip").immutable());
  EXPECT_TRUE(MustParse("/gopkg.in/yaml.v2/@v/v2.4.0.zip").immutable());
  // The old v0.0.0- pseudo-versions for gopkg.in .v1 paths.
  EXPECT_TRUE(
      MustParse("/gopkg.in/check.v1/@v/v0.0.0-20161208181325-20d25e280405.mod").immutable());
  EXPECT_EQ(MustFail("/github.com/go-yaml/yaml/@v/v2.0.0.zip").reason,
            "github.com/go-yaml/yaml@v2.0.0: invalid version: should be v0 or v1, not v2");
  EXPECT_EQ(MustFail("/github.com/go-yaml/yaml/v2/@v/v3.0.0.mod").status, 400);
  EXPECT_EQ(MustFail("/github.com/a/b/v1/@v/list").status, 400);
}

TEST(RequestTest, InfoQueries) {
  Request r = MustParse("/github.com/%21azure/go-autorest/@v/master.info");
  EXPECT_EQ(r.kind, RequestKind::kInfo);
  EXPECT_EQ(r.module, "github.com/Azure/go-autorest");
  EXPECT_EQ(r.version, "master");
  EXPECT_FALSE(r.canonical_version);
  EXPECT_FALSE(r.immutable());
  EXPECT_EQ(r.upstream_path, "/github.com/!azure/go-autorest/@v/master.info");

  r = MustParse("/github.com/a/b/@v/v1.2.info");
  EXPECT_EQ(r.version, "v1.2");
  EXPECT_FALSE(r.canonical_version);
  EXPECT_FALSE(r.immutable());

  r = MustParse("/github.com/a/b/@v/v1.2.3+meta.info");
  EXPECT_FALSE(r.canonical_version);

  r = MustParse("/github.com/a/b/@v/4a3b2c1d.info");
  EXPECT_FALSE(r.canonical_version);

  // A canonical version of the wrong major: the go command asks, and the
  // answer may name another version (v2.0.0+incompatible), so not fixed.
  r = MustParse("/github.com/go-yaml/yaml/@v/v2.0.0.info");
  EXPECT_FALSE(r.canonical_version);
  EXPECT_FALSE(r.immutable());

  // Upper case in a version is case-escaped too.
  r = MustParse("/github.com/a/b/@v/v1.0.0-!r!c1.info");
  EXPECT_EQ(r.version, "v1.0.0-RC1");
  EXPECT_EQ(r.escaped_version, "v1.0.0-!r!c1");
  EXPECT_TRUE(r.canonical_version);
  EXPECT_EQ(r.cache_key, "github.com/a/b/@v/v1.0.0-!r!c1.info");

  // File-name characters a query may hold are re-encoded.
  r = MustParse("/github.com/a/b/@v/a%20b.info");
  EXPECT_EQ(r.version, "a b");
  EXPECT_EQ(r.upstream_path, "/github.com/a/b/@v/a%20b.info");
  EXPECT_EQ(r.cache_key, "github.com/a/b/@v/a%20b.info");
  r = MustParse("/github.com/a/b/@v/100%25.info");
  EXPECT_EQ(r.version, "100%");
  EXPECT_EQ(r.cache_key, "github.com/a/b/@v/100%25.info");
}

TEST(RequestTest, PathsAreRebuiltNotCopied) {
  const Request r = MustParse("/github.com/a/b/@v/%76%31.0.0.zip");
  EXPECT_EQ(r.version, "v1.0.0");
  EXPECT_EQ(r.upstream_path, "/github.com/a/b/@v/v1.0.0.zip");
  EXPECT_EQ(MustParse("/gith%75b.com/a/b/@v/list").upstream_path, "/github.com/a/b/@v/list");
}

TEST(RequestTest, QueryIsIgnored) {
  const Request r = MustParse("/github.com/a/b/@v/v1.0.0.info?go-get=1&x=%zz");
  EXPECT_EQ(r.kind, RequestKind::kInfo);
  EXPECT_EQ(r.upstream_path, "/github.com/a/b/@v/v1.0.0.info");
  EXPECT_EQ(MustParse("/github.com/a/b/@v/list?").kind, RequestKind::kList);
}

TEST(RequestTest, SumdbLookup) {
  const Request r =
      MustParse("/sumdb/sum.fixtures.test/lookup/github.com/!burnt!sushi/toml@v1.2.0");
  EXPECT_EQ(r.kind, RequestKind::kSumdbLookup);
  EXPECT_EQ(r.sumdb_name, "sum.fixtures.test");
  EXPECT_EQ(r.module, "github.com/BurntSushi/toml");
  EXPECT_EQ(r.escaped_module, "github.com/!burnt!sushi/toml");
  EXPECT_EQ(r.version, "v1.2.0");
  EXPECT_TRUE(r.canonical_version);
  EXPECT_TRUE(r.immutable());
  EXPECT_EQ(r.sumdb_path, "lookup/github.com/!burnt!sushi/toml@v1.2.0");
  EXPECT_EQ(r.upstream_path, "/sumdb/sum.fixtures.test/lookup/github.com/!burnt!sushi/toml@v1.2.0");
  EXPECT_EQ(r.cache_key, "sumdb/sum.fixtures.test/lookup/github.com/!burnt!sushi/toml@v1.2.0");
  // Percent-encoded '!' is the same lookup.
  EXPECT_EQ(MustParse("/sumdb/sum.fixtures.test/lookup/github.com/%21burnt%21sushi/toml@v1.2.0")
                .cache_key,
            r.cache_key);
  EXPECT_EQ(
      MustParse("/sumdb/sum.golang.org/lookup/github.com/patrickmn/go-cache@v2.1.0+incompatible")
          .version,
      "v2.1.0+incompatible");
}

TEST(RequestTest, SumdbLookupErrors) {
  EXPECT_EQ(MustFail("/sumdb/sum.golang.org/lookup/github.com/a/b").status, 400);
  EXPECT_EQ(MustFail("/sumdb/sum.golang.org/lookup/github.com/a/b@v1.0").reason,
            "version \"v1.0\" is not canonical");
  EXPECT_EQ(MustFail("/sumdb/sum.golang.org/lookup/github.com/a/b@master").status, 400);
  EXPECT_EQ(MustFail("/sumdb/sum.golang.org/lookup/github.com/A/b@v1.0.0").status, 400);
  EXPECT_EQ(MustFail("/sumdb/sum.golang.org/lookup/github.com/a/b@v1.0.0@v1.0.0").status, 400);
  EXPECT_EQ(MustFail("/sumdb/sum.golang.org/lookup/@v1.0.0").status, 400);
  EXPECT_EQ(MustFail("/sumdb/sum.golang.org/lookup/github.com/a/b@v1.0.0/go.mod").status, 400);
}

TEST(RequestTest, SumdbTiles) {
  Request r = MustParse("/sumdb/sum.fixtures.test/tile/8/0/000.p/46");
  EXPECT_EQ(r.kind, RequestKind::kSumdbTile);
  EXPECT_EQ(r.sumdb_name, "sum.fixtures.test");
  EXPECT_EQ(r.sumdb_path, "tile/8/0/000.p/46");
  EXPECT_EQ(r.tile, (Tile{8, 0, 0, 46}));
  EXPECT_TRUE(r.immutable());
  EXPECT_TRUE(r.module.empty());
  EXPECT_EQ(r.upstream_path, "/sumdb/sum.fixtures.test/tile/8/0/000.p/46");
  EXPECT_EQ(r.cache_key, "sumdb/sum.fixtures.test/tile/8/0/000.p/46");

  r = MustParse("/sumdb/sum.fixtures.test/tile/8/data/000.p/46");
  EXPECT_EQ(r.tile, (Tile{8, -1, 0, 46}));
  EXPECT_EQ(r.sumdb_path, "tile/8/data/000.p/46");

  r = MustParse("/sumdb/sum.golang.org/tile/8/1/x001/234");
  EXPECT_EQ(r.tile, (Tile{8, 1, 1234, 256}));
  EXPECT_EQ(r.cache_key, "sumdb/sum.golang.org/tile/8/1/x001/234");

  EXPECT_EQ(MustFail("/sumdb/sum.golang.org/tile/8/0/001/234").reason,
            "malformed tile path \"tile/8/0/001/234\"");
  EXPECT_EQ(MustFail("/sumdb/sum.golang.org/tile/8/0/000.p/256").status, 400);
  EXPECT_EQ(MustFail("/sumdb/sum.golang.org/tile/31/0/000").status, 400);
  EXPECT_EQ(MustFail("/sumdb/sum.golang.org/tile/8/0/00").status, 400);
  EXPECT_EQ(MustFail("/sumdb/sum.golang.org/tile/8/0/000/").status, 400);
}

TEST(RequestTest, SumdbSupportedAndLatest) {
  Request r = MustParse("/sumdb/sum.golang.org/supported");
  EXPECT_EQ(r.kind, RequestKind::kSumdbSupported);
  EXPECT_EQ(r.sumdb_name, "sum.golang.org");
  EXPECT_EQ(r.sumdb_path, "supported");
  EXPECT_FALSE(r.immutable());
  EXPECT_EQ(r.upstream_path, "/sumdb/sum.golang.org/supported");
  EXPECT_EQ(r.cache_key, "sumdb/sum.golang.org/supported");

  r = MustParse("/sumdb/sum.golang.org/latest");
  EXPECT_EQ(r.kind, RequestKind::kSumdbLatest);
  EXPECT_FALSE(r.immutable());
  EXPECT_EQ(r.upstream_path, "/sumdb/sum.golang.org/latest");
  EXPECT_EQ(MustParse("/sumdb/sum-db.example-1.com/latest").sumdb_name, "sum-db.example-1.com");
}

TEST(RequestTest, SumdbNames) {
  EXPECT_EQ(MustFail("/sumdb/Sum.golang.org/latest").status, 400);
  EXPECT_EQ(MustFail("/sumdb/.golang.org/latest").status, 400);
  EXPECT_EQ(MustFail("/sumdb/-x.org/latest").status, 400);
  EXPECT_EQ(MustFail("/sumdb/sum_db/latest").status, 400);
  EXPECT_EQ(MustFail("/sumdb/sum.golang.org:443/latest").status, 400);
  EXPECT_EQ(MustFail("/sumdb/sum.golang.org").status, 404);
  EXPECT_EQ(MustFail("/sumdb/sum.golang.org/other").status, 404);
  EXPECT_EQ(MustFail("/sumdb/sum.golang.org/latest/x").status, 404);
  EXPECT_EQ(MustFail("/sumdb/sum.golang.org/supported/").status, 400);
}

TEST(RequestTest, Traversal) {
  EXPECT_EQ(MustFail("/../etc/passwd").status, 400);
  EXPECT_EQ(MustFail("/%2e%2e/etc/passwd").status, 400);
  EXPECT_EQ(MustFail("/github.com/a/../b/@v/list").status, 400);
  EXPECT_EQ(MustFail("/github.com/./b/@v/list").status, 400);
  EXPECT_EQ(MustFail("/github.com/a/b/@v/..").status, 400);
  EXPECT_EQ(MustFail("/github.com/a/b/@v/...info").status, 400);
  EXPECT_EQ(MustFail("/sumdb/../latest").status, 400);
  EXPECT_EQ(MustFail("/github.com%2F..%2F..%2Fetc/@v/list").status, 400);
  EXPECT_EQ(MustFail("/github.com\\a\\b/@v/list").status, 400);
  EXPECT_EQ(MustFail("/github.com%5Ca/b/@v/list").status, 400);
}

TEST(RequestTest, EmptyElements) {
  EXPECT_EQ(MustFail("/a//b/@v/list").status, 400);
  EXPECT_EQ(MustFail("//github.com/a/b/@v/list").status, 400);
  EXPECT_EQ(MustFail("/github.com/a/b/@v/list/").status, 400);
  EXPECT_EQ(MustFail("/github.com/a/b/@v/").status, 400);
}

TEST(RequestTest, EscapingErrors) {
  RequestError e = MustFail("/github.com/X/y/@v/list");
  EXPECT_EQ(e.status, 400);
  EXPECT_EQ(e.reason, "invalid escaped module path \"github.com/X/y\"");
  e = MustFail("/github.com/!!x/y/@v/list");
  EXPECT_EQ(e.status, 400);
  e = MustFail("/github.com/a!/y/@v/list");
  EXPECT_EQ(e.status, 400);
  e = MustFail("/example/a/@v/list");
  EXPECT_EQ(e.reason,
            "invalid escaped module path \"example/a\": malformed module path \"example/a\": "
            "missing dot in first path element");
  e = MustFail("/github.com/a/b/@v/v1.0.0-Pre.info");
  EXPECT_EQ(e.reason, "invalid escaped version \"v1.0.0-Pre\"");
  e = MustFail("/github.com/a/b/@v/%21%21.info");
  EXPECT_EQ(e.status, 400);
  e = MustFail("/github.com/a/b/@v/a:b.info");
  EXPECT_EQ(e.reason, "invalid escaped version \"a:b\": invalid char ':'");
  e = MustFail("/github.com/a/b/@v/.info");
  EXPECT_EQ(e.reason, "invalid escaped version \"\": empty path element");
  e = MustFail("/github.com/a/b@v1/@v/list");
  EXPECT_EQ(e.status, 400);
  e = MustFail("/github.com/a/b/@v/v1.0.0-%C3%A9.info");
  EXPECT_EQ(e.status, 400);
}

TEST(RequestTest, PercentDecoding) {
  RequestError e = MustFail("/%zz");
  EXPECT_EQ(e.status, 400);
  EXPECT_EQ(e.reason, "invalid URL escape \"%zz\"");
  EXPECT_EQ(MustFail("/github.com/a/b/@v/list%").status, 400);
  EXPECT_EQ(MustFail("/github.com/a/b/@v/list%2").status, 400);
  EXPECT_EQ(MustFail("/github.com/a%2Fb/@v/list").status, 400);
  EXPECT_EQ(MustFail("/github.com/a%2fb/@v/list").status, 400);
  // Decoded exactly once: %2521 is "%21", not "!".
  EXPECT_EQ(MustFail("/github.com/%2521burnt/toml/@v/list").status, 400);
}

TEST(RequestTest, ControlCharacters) {
  RequestError e = MustFail("/github.com/a/b/@v/%00.info");
  EXPECT_EQ(e.status, 400);
  EXPECT_THAT(e.reason, HasSubstr("control character"));
  EXPECT_EQ(MustFail("/%00").status, 400);
  EXPECT_EQ(MustFail("/github.com/a/b/@v/v1%0A.info").status, 400);
  EXPECT_EQ(MustFail("/github.com/a/b/@v/v1%7F.info").status, 400);
  EXPECT_EQ(MustFail(std::string("/github.com/a/b/@v/v1\t.info")).status, 400);
}

TEST(RequestTest, NonCanonicalVersionsForModAndZip) {
  RequestError e = MustFail("/github.com/a/b/@v/v1.0.zip");
  EXPECT_EQ(e.status, 400);
  EXPECT_EQ(e.reason, "version \"v1.0\" is not canonical");
  EXPECT_EQ(MustFail("/github.com/a/b/@v/v1.2.mod").reason, "version \"v1.2\" is not canonical");
  EXPECT_EQ(MustFail("/github.com/a/b/@v/v1.0.0+meta.zip").reason,
            "version \"v1.0.0+meta\" is not canonical");
  EXPECT_EQ(MustFail("/github.com/a/b/@v/master.mod").reason,
            "github.com/a/b@master: invalid version: not a semantic version");
  EXPECT_EQ(MustFail("/github.com/a/b/@v/1.0.0.zip").status, 400);
}

TEST(RequestTest, NotFound) {
  for (const char* target : {
           "/",
           "/github.com/a/b",
           "/github.com/a/b/@v",
           "/github.com/a/b/@v/v1.0.0.txt",
           "/github.com/a/b/@v/v1.0.0",
           "/github.com/a/b/@v/list.info/x",
           "/github.com/a/b/@latest/x",
           "/github.com/a/b/@v/v1.0.0.info%3Fx",
           "/favicon.ico",
           "/sumdb",
       }) {
    const RequestError e = MustFail(target);
    EXPECT_EQ(e.status, 404) << target << ": " << e.reason;
    EXPECT_EQ(e.reason, "not found") << target;
  }
}

TEST(RequestTest, MalformedTargets) {
  EXPECT_EQ(MustFail("").status, 400);
  EXPECT_EQ(MustFail("*").status, 400);
  EXPECT_EQ(MustFail("github.com/a/b/@v/list").status, 400);
  EXPECT_EQ(MustFail("http://proxy/github.com/a/b/@v/list").status, 400);
  EXPECT_EQ(MustFail("/github.com/a/b/@v/list#x").status, 400);
}

TEST(RequestTest, Length) {
  std::string target = "/github.com/a/b/@v/list?";
  target.resize(kMaxRequestTargetLength, 'x');
  EXPECT_EQ(MustParse(target).kind, RequestKind::kList);
  target.push_back('x');
  EXPECT_EQ(MustFail(target).status, 414);

  // A single element longer than file systems allow.
  EXPECT_EQ(MustFail("/github.com/a/" + std::string(256, 'b') + "/@v/list").status, 400);
  EXPECT_EQ(MustParse("/github.com/a/" + std::string(255, 'b') + "/@v/list").kind,
            RequestKind::kList);
}

TEST(RequestTest, Immutability) {
  EXPECT_TRUE(MustParse("/github.com/a/b/@v/v1.0.0.mod").immutable());
  EXPECT_TRUE(MustParse("/github.com/a/b/@v/v1.0.0.zip").immutable());
  EXPECT_TRUE(MustParse("/github.com/a/b/@v/v1.0.0.info").immutable());
  EXPECT_TRUE(MustParse("/github.com/a/b/@v/v0.0.0-20191109021931-daa7c04131f5.info").immutable());
  EXPECT_FALSE(MustParse("/github.com/a/b/@v/latest.info").immutable());
  EXPECT_FALSE(MustParse("/github.com/a/b/@v/list").immutable());
  EXPECT_FALSE(MustParse("/github.com/a/b/@latest").immutable());
}

// ModRequestFor builds, from a parsed .info, exactly what ParseRequest gives
// for the .mod target: the prefetched fill and the client's later request
// must name one cache entry.
void ExpectModRequestFor(std::string_view info_target, std::string_view mod_target) {
  SCOPED_TRACE(info_target);
  const std::optional<Request> got = ModRequestFor(MustParse(info_target));
  ASSERT_TRUE(got.has_value());
  const Request want = MustParse(mod_target);
  EXPECT_EQ(got->kind, RequestKind::kMod);
  EXPECT_EQ(got->module, want.module);
  EXPECT_EQ(got->escaped_module, want.escaped_module);
  EXPECT_EQ(got->version, want.version);
  EXPECT_EQ(got->escaped_version, want.escaped_version);
  EXPECT_TRUE(got->canonical_version);
  EXPECT_EQ(got->upstream_path, want.upstream_path);
  EXPECT_EQ(got->cache_key, want.cache_key);
  EXPECT_TRUE(got->sumdb_name.empty());
  EXPECT_TRUE(got->immutable());
}

TEST(RequestTest, ModRequestForCanonicalInfo) {
  ExpectModRequestFor("/github.com/%21burnt%21sushi/toml/@v/v1.2.0.info",
                      "/github.com/%21burnt%21sushi/toml/@v/v1.2.0.mod");
  ExpectModRequestFor("/github.com/patrickmn/go-cache/@v/v2.1.0+incompatible.info",
                      "/github.com/patrickmn/go-cache/@v/v2.1.0+incompatible.mod");
  ExpectModRequestFor("/github.com/a/b/@v/v0.0.0-20191109021931-daa7c04131f5.info",
                      "/github.com/a/b/@v/v0.0.0-20191109021931-daa7c04131f5.mod");
  ExpectModRequestFor("/github.com/a/b/v2/@v/v2.0.0-rc.1.info",
                      "/github.com/a/b/v2/@v/v2.0.0-rc.1.mod");
}

TEST(RequestTest, NoModRequestForOtherRequests) {
  // Queries: no fixed version, so no .mod to fetch ahead.
  EXPECT_FALSE(ModRequestFor(MustParse("/github.com/a/b/@v/master.info")).has_value());
  EXPECT_FALSE(ModRequestFor(MustParse("/github.com/a/b/@v/v1.2.info")).has_value());
  // A version of the wrong major for the path is a query too.
  EXPECT_FALSE(ModRequestFor(MustParse("/github.com/a/b/@v/v2.0.0.info")).has_value());
  EXPECT_FALSE(ModRequestFor(MustParse("/github.com/a/b/@v/v1.0.0.mod")).has_value());
  EXPECT_FALSE(ModRequestFor(MustParse("/github.com/a/b/@v/v1.0.0.zip")).has_value());
  EXPECT_FALSE(ModRequestFor(MustParse("/github.com/a/b/@v/list")).has_value());
  EXPECT_FALSE(ModRequestFor(MustParse("/github.com/a/b/@latest")).has_value());
  EXPECT_FALSE(
      ModRequestFor(MustParse("/sumdb/sum.golang.org/lookup/github.com/a/b@v1.0.0")).has_value());
}

}  // namespace
}  // namespace modgate::goproxy
