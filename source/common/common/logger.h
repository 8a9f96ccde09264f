#pragma once

#include <atomic>
#include <string_view>

#include "absl/strings/str_cat.h"

namespace modgate::log {

enum class Level { kTrace, kDebug, kInfo, kWarn, kError, kOff };

// Process-wide threshold; set once at start-up (and on reload).
void setLevel(Level level);
Level level();
bool parseLevel(std::string_view text, Level& out);
// Writes one line to stderr: "2026-11-24T19:00:00.123Z info [thread] message".
void write(Level level, std::string_view message);

}  // namespace modgate::log

// Arguments are absl::StrCat pieces; they are not evaluated below the level.
#define MODGATE_LOG(LEVEL, ...)                                                       \
  do {                                                                                \
    if (::modgate::log::Level::LEVEL >= ::modgate::log::level()) {                    \
      ::modgate::log::write(::modgate::log::Level::LEVEL, absl::StrCat(__VA_ARGS__)); \
    }                                                                                 \
  } while (0)
#define LOG_DEBUG(...) MODGATE_LOG(kDebug, __VA_ARGS__)
#define LOG_INFO(...) MODGATE_LOG(kInfo, __VA_ARGS__)
#define LOG_WARN(...) MODGATE_LOG(kWarn, __VA_ARGS__)
#define LOG_ERROR(...) MODGATE_LOG(kError, __VA_ARGS__)
