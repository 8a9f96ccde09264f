#include "source/server/config_source.h"

// boringssl.h first: it checks that BoringSSL, not OpenSSL, is in use.
#include "source/common/tls/boringssl.h"
// clang-format off
#include <openssl/sha.h>
// clang-format on

#include "absl/strings/escaping.h"

namespace modgate::server {
namespace {

class CommandLineConfigSource : public ConfigSource {
 public:
  explicit CommandLineConfigSource(config::CommandLine command_line)
      : command_line_(std::move(command_line)) {}

  const std::string& path() const override { return command_line_.config_path; }

  absl::StatusOr<LoadedConfig> load(const config::v1::DynamicConfig* dynamic) override {
    std::string text;
    auto bootstrap = config::BuildBootstrap(command_line_, &text, dynamic);
    if (!bootstrap.ok()) return bootstrap.status();
    return LoadedConfig{*std::move(bootstrap), sha256Hex(text)};
  }

 private:
  const config::CommandLine command_line_;
};

}  // namespace

std::unique_ptr<ConfigSource> commandLineConfigSource(config::CommandLine command_line) {
  return std::make_unique<CommandLineConfigSource>(std::move(command_line));
}

std::string sha256Hex(std::string_view bytes) {
  uint8_t digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size(), digest);
  return absl::BytesToHexString(
      absl::string_view(reinterpret_cast<const char*>(digest), sizeof(digest)));
}

}  // namespace modgate::server
