"""The check that a TLS-capable test binary loads BoringSSL, never OpenSSL 3.

no_openssl3_test(name, binary) defines an sh_test that runs
no_openssl3_test.sh (ldd) on `binary`, a target of the calling package named
without the colon. Both libraries in one process cross-bind their
unprefixed symbols (see source/common/tls/boringssl.h).
"""

def no_openssl3_test(name, binary):
    native.sh_test(
        name = name,
        size = "small",
        srcs = ["//test/common/tls:no_openssl3_test.sh"],
        args = ["$(location :%s)" % binary],
        data = [":" + binary],
    )
