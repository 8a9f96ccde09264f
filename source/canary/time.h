#pragma once

#include <chrono>

namespace modgate::canary {

// The same type as event::MonotonicTime, declared here so that the canary
// engine stays free of the event loop: callers pass their dispatcher's now()
// and tests pass a fake one.
using MonotonicTime = std::chrono::steady_clock::time_point;

// Wall-clock time, used only to label history for people reading it.
using SystemTime = std::chrono::system_clock::time_point;

}  // namespace modgate::canary
