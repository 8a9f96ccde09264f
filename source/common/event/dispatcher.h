#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <string>

struct event_base;

namespace modgate::event {

using MonotonicTime = std::chrono::steady_clock::time_point;

// A one-shot timer owned by the code that armed it; destroying it disarms it.
class Timer {
 public:
  virtual ~Timer() = default;
  virtual void enableTimer(std::chrono::milliseconds delay) = 0;
  virtual void disableTimer() = 0;
  virtual bool enabled() const = 0;
};
using TimerPtr = std::unique_ptr<Timer>;
using TimerCb = std::function<void()>;

// Objects that may still be on the call stack when their owner lets go of
// them (a stream finishing inside its own callback) are handed to
// deferredDelete() and destroyed when the current event loop iteration ends.
class DeferredDeletable {
 public:
  virtual ~DeferredDeletable() = default;
};
using DeferredDeletablePtr = std::unique_ptr<DeferredDeletable>;

// One event loop, run by exactly one thread. Everything but post() and
// exit() must be called on that thread: the data path takes no locks
// because each connection lives on one dispatcher for its whole life.
class Dispatcher {
 public:
  virtual ~Dispatcher() = default;

  virtual const std::string& name() const = 0;

  // The libevent base, for components built on libevent primitives
  // (bufferevents, evdns, listeners).
  virtual event_base& base() = 0;

  virtual TimerPtr createTimer(TimerCb cb) = 0;

  virtual void deferredDelete(DeferredDeletablePtr object) = 0;

  // Thread-safe: runs `cb` on this dispatcher's thread soon. This is how
  // shared state (config snapshots, fetch progress) reaches a worker.
  virtual void post(std::function<void()> cb) = 0;

  // Runs the loop until exit() is called.
  virtual void run() = 0;

  // Thread-safe: makes run() return after the current iteration.
  virtual void exit() = 0;

  // True on the thread running this dispatcher.
  virtual bool isThreadSafe() const = 0;

  // Monotonic time.
  virtual MonotonicTime now() = 0;
};
using DispatcherPtr = std::unique_ptr<Dispatcher>;

}  // namespace modgate::event
