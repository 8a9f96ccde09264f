#pragma once

#include <memory>

#include "source/common/event/dispatcher.h"

namespace modgate::upstream {

// Hands any owned object to Dispatcher::deferredDelete(), for objects that
// may still be on the call stack (a connection closing inside its own
// callback) but are not DeferredDeletable themselves.
template <class T>
void deferDelete(event::Dispatcher& dispatcher, std::unique_ptr<T> object) {
  if (object == nullptr) return;
  if constexpr (std::is_base_of_v<event::DeferredDeletable, T>) {
    dispatcher.deferredDelete(std::move(object));
  } else {
    struct Holder : public event::DeferredDeletable {
      explicit Holder(std::unique_ptr<T> held) : held(std::move(held)) {}
      std::unique_ptr<T> held;
    };
    dispatcher.deferredDelete(std::make_unique<Holder>(std::move(object)));
  }
}

}  // namespace modgate::upstream
