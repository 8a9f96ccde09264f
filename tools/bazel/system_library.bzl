"""Wraps Debian's system libraries as cc_library targets, offline.

Headers live in /usr/include, which the auto-configured gcc toolchain already
searches, so only link flags are needed; pkg-config supplies them at fetch
time.
"""

def _system_library_impl(ctx):
    linkopts = list(ctx.attr.linkopts)
    for name in ctx.attr.pkg_config:
        result = ctx.execute(["pkg-config", "--libs", name])
        if result.return_code != 0:
            fail("pkg-config --libs %s failed: %s" % (name, result.stderr))
        for flag in result.stdout.strip().split(" "):
            if flag and flag not in linkopts:
                linkopts.append(flag)
    ctx.file("BUILD.bazel", """
cc_library(
    name = "{name}",
    linkopts = {linkopts},
    visibility = ["//visibility:public"],
)
""".format(name = ctx.name, linkopts = repr(linkopts)))

system_library = repository_rule(
    implementation = _system_library_impl,
    attrs = {
        "pkg_config": attr.string_list(),
        "linkopts": attr.string_list(),
    },
    local = True,
)

_ANDROID_LIB = "/usr/lib/x86_64-linux-gnu/android"

def _boringssl_repository_impl(ctx):
    # BoringSSL ships its headers in /usr/include/android/openssl, next to
    # OpenSSL 3's in /usr/include/openssl: expose only BoringSSL's, under
    # include/, so that `#include <openssl/ssl.h>` resolves to it first.
    ctx.symlink("/usr/include/android/openssl", "include/openssl")
    ctx.file("BUILD.bazel", """
cc_library(
    name = "ssl",
    hdrs = glob(["include/openssl/*.h"]),
    includes = ["include"],
    # Name the exact files: a plain -lssl could pick OpenSSL 3.
    linkopts = [
        "-L{lib}",
        "-l:libssl.so.0",
        "-l:libcrypto.so.0",
        "-Wl,-rpath,{lib}",
    ],
    visibility = ["//visibility:public"],
)
""".format(lib = _ANDROID_LIB))

boringssl_repository = repository_rule(
    implementation = _boringssl_repository_impl,
    local = True,
)
