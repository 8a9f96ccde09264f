// The config loader: YAML and JSON text to a validated Bootstrap, with the
// errors naming fields and lines.
#include <string_view>

#include "source/config/loader.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  (void)modgate::config::LoadYaml(text);
  (void)modgate::config::LoadJson(text);
  return 0;
}
