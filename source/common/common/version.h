#pragma once

namespace modgate {

// What `modgate --version` and GET /server_info report.
inline constexpr const char* kVersion = "0.1.0";
// How this binary was built: the compiler and whether optimized, so a
// report names the build, not just the release.
inline constexpr const char* kBuild = "gcc " __VERSION__
#ifdef NDEBUG
                                      ", optimized"
#else
                                      ", not optimized"
#endif
    ;

}  // namespace modgate
