"""libFuzzer targets that are also plain regression tests (Envoy's pattern).

modgate_fuzz_test(name, srcs, deps) defines, for a source file that
implements LLVMFuzzerTestOneInput:
  name          a cc_test (gcc, part of `bazel test //...`) that feeds every
                file of the checked-in corpus test/fuzz/corpus/<name>/ to it;
  name_fuzzer   a libFuzzer binary (tagged manual): build it with clang and
                --config=fuzz, as `tools/ci/test.sh --fuzz` does.
"""

def modgate_fuzz_test(name, srcs, deps = []):
    native.cc_library(
        name = name + "_lib",
        testonly = True,
        srcs = srcs,
        deps = deps,
        alwayslink = True,
    )
    corpus = "corpus/" + name
    native.cc_test(
        name = name,
        size = "small",
        deps = [
            ":" + name + "_lib",
            "//test/fuzz:regression_main",
        ],
        data = native.glob([corpus + "/**"]),
        args = [native.package_name() + "/" + corpus],
    )
    native.cc_binary(
        name = name + "_fuzzer",
        testonly = True,
        deps = [":" + name + "_lib"],
        linkopts = ["-fsanitize=fuzzer"],
        tags = ["manual"],
    )
