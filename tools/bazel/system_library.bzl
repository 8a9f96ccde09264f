"""Wraps Debian's system libraries as cc_library targets, offline.

Headers live in /usr/include, which the auto-configured gcc toolchain already
searches, so only link flags are needed; pkg-config supplies them at fetch
time.
"""

# Libraries that stay shared in a --config=release build: the C and C++
# runtimes (BoringSSL's libssl.so.0 needs libstdc++.so) and the system's
# helpers, whose static copies would only duplicate what libc already maps.
_ALWAYS_SHARED = ["atomic", "c", "dl", "gcc_s", "m", "pthread", "rt", "stdc++", "z"]
_LIB_DIR = "/usr/lib/x86_64-linux-gnu"

def static_linkopts(ctx, linkopts):
    """The same link line with Debian's static archives (libNAME.a) where they
    exist, in one group so that archives may refer to each other in any order."""
    out = []
    for flag in linkopts:
        name = flag[2:] if flag.startswith("-l") and not flag.startswith("-l:") else None
        if name and name not in _ALWAYS_SHARED and ctx.path("%s/lib%s.a" % (_LIB_DIR, name)).exists:
            out.append("-l:lib%s.a" % name)
        else:
            out.append(flag)
    return ["-Wl,--start-group"] + out + ["-Wl,--end-group"]

def _system_library_impl(ctx):
    linkopts = list(ctx.attr.linkopts)
    static = list(ctx.attr.linkopts)
    for name in ctx.attr.pkg_config:
        for flags, mode in [(linkopts, ["--libs"]), (static, ["--static", "--libs"])]:
            result = ctx.execute(["pkg-config"] + mode + [name])
            if result.return_code != 0:
                fail("pkg-config %s %s failed: %s" % (" ".join(mode), name, result.stderr))
            for flag in result.stdout.strip().split(" "):
                if flag and flag not in flags:
                    flags.append(flag)

    # --config=release (--define modgate_static_libs=1) links the static
    # archives: a sidecar maps only the code it uses (docs/benchmarks.md).
    ctx.file("BUILD.bazel", """
cc_library(
    name = "{name}",
    linkopts = select({{
        "@modgate//tools/bazel:static_libs": {static},
        "//conditions:default": {linkopts},
    }}),
    visibility = ["//visibility:public"],
)
""".format(name = ctx.name, linkopts = repr(linkopts), static = repr(static_linkopts(ctx, static))))

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
