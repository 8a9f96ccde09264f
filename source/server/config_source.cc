#include "source/server/config_source.h"

#include "source/common/crypto/sha256.h"

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

std::string sha256Hex(std::string_view bytes) { return crypto::toHex(crypto::Sha256::hash(bytes)); }

}  // namespace modgate::server
