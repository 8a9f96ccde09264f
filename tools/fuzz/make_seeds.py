#!/usr/bin/python3
"""Writes the seed corpora of test/fuzz/corpus/<target>/ (run once; the files
are checked in). Inputs that found crashes are added next to them by hand,
named crash-<what>.

Usage (Debian python3 for python3-h2): /usr/bin/python3 tools/fuzz/make_seeds.py FIXTURE_ORIGIN
"""
import glob
import os
import shutil
import sys

import h2.config
import h2.connection

root = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "test", "fuzz", "corpus")
fixture = sys.argv[1]


def put(target, name, data):
    d = os.path.join(root, target)
    os.makedirs(d, exist_ok=True)
    if isinstance(data, str):
        data = data.encode()
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


# HTTP/1.1: the first byte picks the dispatch piece size.
get = "GET {} HTTP/1.1\r\nHost: proxy\r\nUser-Agent: Go-http-client/1.1\r\n\r\n"
for i, (name, req) in enumerate([
    ("zip", get.format("/github.com/%21burnt%21sushi/toml/@v/v1.2.0.zip")),
    ("pipelined", get.format("/github.com/google/uuid/@v/list") + get.format("/github.com/google/uuid/@latest")),
    ("head", "HEAD /github.com/pkg/errors/@v/v0.9.1.info HTTP/1.1\r\nHost: p\r\n\r\n"),
    ("http10", "GET /gopkg.in/yaml.v3/@v/v3.0.1.mod HTTP/1.0\r\n\r\n"),
    ("chunked_post", "POST /x HTTP/1.1\r\nHost: p\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n"),
    ("content_length", "PUT /x HTTP/1.1\r\nHost: p\r\nContent-Length: 3\r\n\r\nabc"),
    ("h2c_upgrade", "GET /sumdb/sum.golang.org/supported HTTP/1.1\r\nHost: p\r\nConnection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\nHTTP2-Settings: AAMAAABkAAQAoAAAAAIAAAAA\r\n\r\n"),
    ("bad_version", "GET /HTTP/1.1\r\n\r\n"),
    ("folded", "GET /a HTTP/1.1\r\nHost: p\r\nX: a\r\n  b\r\n\r\n"),
    ("sumdb_tile", get.format("/sumdb/sum.golang.org/tile/8/0/x001/234.p/5")),
]):
    put("http1_request_fuzz_test", name, bytes([i * 7 % 64]) + req.encode())

# HTTP/2: what a client sends, from python3-h2.
def h2_client(requests, extra=None):
    c = h2.connection.H2Connection(h2.config.H2Configuration(client_side=True))
    c.initiate_connection()
    sid = 1
    for path, end in requests:
        c.send_headers(sid, [(":method", "GET"), (":path", path), (":scheme", "http"),
                             (":authority", "proxy"), ("user-agent", "Go-http-client/2.0")],
                       end_stream=end)
        if not end:
            c.send_data(sid, b"body", end_stream=True)
        sid += 2
    if extra:
        extra(c)
    return c.data_to_send()

put("http2_server_fuzz_test", "one_get", b"\x3f" + h2_client([("/github.com/pkg/errors/@v/v0.9.1.zip", True)]))
put("http2_server_fuzz_test", "three_gets", b"\x05" + h2_client([
    ("/github.com/google/uuid/@v/list", True),
    ("/sumdb/sum.golang.org/lookup/github.com/google/uuid@v1.3.0", True),
    ("/github.com/!burnt!sushi/toml/@v/v1.2.0.info", True)]))
put("http2_server_fuzz_test", "with_body", b"\x10" + h2_client([("/x", False)]))
put("http2_server_fuzz_test", "ping_reset", b"\x01" + h2_client(
    [("/a", True)], lambda c: (c.ping(b"12345678"), c.reset_stream(1), c.update_settings({4: 1 << 20}))))
put("http2_server_fuzz_test", "window_update", b"\x20" + h2_client(
    [("/b", True)], lambda c: c.increment_flow_control_window(1000)))

# Request targets.
for name, target in [
    ("zip", "/github.com/%21burnt%21sushi/toml/@v/v1.2.0.zip"),
    ("info_query", "/github.com/google/uuid/@v/master.info"),
    ("incompatible", "/github.com/patrickmn/go-cache/@v/v2.1.0+incompatible.zip"),
    ("pseudo", "/github.com/pkg/diff/@v/v0.0.0-20210226163009-20ebb0f2a09e.mod"),
    ("gopkg", "/gopkg.in/yaml.v3/@v/v3.0.1.mod"),
    ("v2", "/github.com/cpuguy83/go-md2man/v2/@v/v2.0.2.zip"),
    ("latest", "/golang.org/x/sys/@latest"),
    ("list", "/github.com/stretchr/testify/@v/list?x=1"),
    ("lookup", "/sumdb/sum.golang.org/lookup/github.com/!burnt!sushi/toml@v1.2.0"),
    ("tile", "/sumdb/sum.golang.org/tile/8/1/x001/x002/003.p/7"),
    ("data_tile", "/sumdb/sum.golang.org/tile/8/data/000"),
    ("supported", "/sumdb/sum.fixtures.test/supported"),
    ("dotdot", "/github.com/../etc/@v/list"),
    ("bad_escape", "/github.com/%2e%2F/@v/list"),
    ("upper", "/github.com/BurntSushi/toml/@v/list"),
]:
    put("request_parse_fuzz_test", name, target)

# Checksum database answers.
db = os.path.join(fixture, "sumdb", "sum.fixtures.test")

put("sumdb_fuzz_test", "latest", open(os.path.join(db, "latest"), "rb").read())
for m in ["github.com/pkg/errors@v0.9.1", "github.com/!burnt!sushi/toml@v1.2.0", "gopkg.in/yaml.v3@v3.0.1"]:
    put("sumdb_fuzz_test", "lookup_" + m.replace("/", "_"), open(os.path.join(db, "lookup", m), "rb").read())
put("sumdb_fuzz_test", "tile_path", "tile/8/0/x001/234.p/5")
put("sumdb_fuzz_test", "vkey", "sum.golang.org+033de0ae+Ac4zctda0e5eza+HJyk9SxEdh+s3Ux18htTTAD8OuAn8")
# A record whose "note" is tile data: the proof code reads it as hashes.
put("sumdb_fuzz_test", "record_with_tile", b"3\ngithub.com/pkg/errors v0.9.1 h1:x=\n\n" +
    open(os.path.join(db, "tile", "8", "0", "000.p", "46"), "rb").read()[:32 * 8])

# Zips: small real module zips, one tampered, one cut short.
for p in ["github.com/cpuguy83/go-md2man/v2/@v/v2.0.1.zip", "github.com/inconshreveable/mousetrap/@v/v1.0.0.zip",
          "github.com/pkg/errors/@v/v0.9.1.zip"]:
    put("zip_hash_fuzz_test", p.replace("/", "_"), open(os.path.join(fixture, p), "rb").read())
z = bytearray(open(os.path.join(fixture, "github.com/pkg/errors/@v/v0.9.1.zip"), "rb").read())
i = z.rfind(b"github.com/pkg/errors@v0.9.1/stack.go") + len("github.com/pkg/errors@v0.9.1/")
z[i] ^= 1
put("zip_hash_fuzz_test", "tampered_name", bytes(z))
put("zip_hash_fuzz_test", "truncated", bytes(z[: len(z) // 2]))
put("zip_hash_fuzz_test", "empty_zip", b"PK\x05\x06" + b"\x00" * 18)

# Configs: the examples, and JSON.
for p in sorted(glob.glob(os.path.join(os.path.dirname(root), "..", "..", "examples", "*.yaml"))):
    put("config_load_fuzz_test", os.path.basename(p), open(p, "rb").read())
put("config_load_fuzz_test", "json.json", '{"clusters":[{"name":"a","endpoints":[{"url":"http://127.0.0.1:1"}]}],'
    '"sumdbs":[{"name":"sum.fixtures.test","key":"sum.fixtures.test+a733dd48+AY9Q8ECTLcaRVtzVsWvVXm5cCGZQmET8PcGu0AS+E5Gw"}],'
    '"nosum":"*.corp.example.com"}')
put("config_load_fuzz_test", "bad_key.yaml", "clusters:\n  - name: a\n    endpoints:\n      - url: http://x\nsumdbs:\n  - name: s.x\n    key: s.x+00000000+AAAA\n")
