#include "source/config/command_line.h"

#include <cstdlib>
#include <fstream>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "source/config/default_config.h"
#include "source/config/defaults.h"
#include "source/config/loader.h"
#include "source/config/validator.h"

namespace modgate::config {
namespace {

using ::testing::HasSubstr;
using Mode = CommandLine::Mode;

absl::StatusOr<CommandLine> Parse(std::vector<std::string> args) {
  args.insert(args.begin(), "modgate");
  return ParseCommandLine(args);
}

TEST(ParseCommandLineTest, NoArgumentsRunsTheDefault) {
  absl::StatusOr<CommandLine> cl = Parse({});
  ASSERT_TRUE(cl.ok()) << cl.status();
  EXPECT_EQ(cl->mode, Mode::kRun);
  EXPECT_EQ(cl->config_path, "");
  EXPECT_FALSE(cl->listen || cl->admin || cl->upstream || cl->cache_dir || cl->cache_max_bytes ||
               cl->concurrency || cl->log_level);
}

TEST(ParseCommandLineTest, AllFlagsBothForms) {
  absl::StatusOr<CommandLine> cl =
      Parse({"-c", "/etc/modgate.yaml", "--listen=0.0.0.0:3000", "--admin", "[::1]:9000",
             "--upstream=https://a,https://b", "--cache-dir", "/c", "--cache-max-bytes=0",
             "--concurrency", "8", "--log-level=debug"});
  ASSERT_TRUE(cl.ok()) << cl.status();
  EXPECT_EQ(cl->mode, Mode::kRun);
  EXPECT_EQ(cl->config_path, "/etc/modgate.yaml");
  EXPECT_EQ(*cl->listen, "0.0.0.0:3000");
  EXPECT_EQ(*cl->admin, "[::1]:9000");
  EXPECT_EQ(*cl->upstream, "https://a,https://b");
  EXPECT_EQ(*cl->cache_dir, "/c");
  EXPECT_EQ(*cl->cache_max_bytes, 0u);
  EXPECT_EQ(*cl->concurrency, 8u);
  EXPECT_EQ(*cl->log_level, "debug");

  cl = Parse({"--config=x.json", "-c=y.json"});
  ASSERT_TRUE(cl.ok()) << cl.status();
  EXPECT_EQ(cl->config_path, "y.json");  // Last one wins.
}

TEST(ParseCommandLineTest, NoWatchIsASwitch) {
  EXPECT_TRUE(Parse({"-c", "f.yaml"})->watch_config);
  absl::StatusOr<CommandLine> cl = Parse({"--no-watch", "-c", "f.yaml"});
  ASSERT_TRUE(cl.ok()) << cl.status();
  EXPECT_FALSE(cl->watch_config);
  EXPECT_EQ(cl->config_path, "f.yaml");
  EXPECT_FALSE(Parse({"--no-watch=1"}).ok());
}

TEST(ParseCommandLineTest, Modes) {
  EXPECT_EQ(Parse({"--version"})->mode, Mode::kVersion);
  EXPECT_EQ(Parse({"--help"})->mode, Mode::kHelp);
  EXPECT_EQ(Parse({"-h", "--version"})->mode, Mode::kHelp);
  EXPECT_EQ(Parse({"--bogus", "--help"})->mode, Mode::kHelp);
  absl::StatusOr<CommandLine> cl = Parse({"validate", "-c", "f.yaml"});
  ASSERT_TRUE(cl.ok()) << cl.status();
  EXPECT_EQ(cl->mode, Mode::kValidate);
  EXPECT_EQ(cl->config_path, "f.yaml");
}

TEST(ParseCommandLineTest, PrefillAndExport) {
  absl::StatusOr<CommandLine> cl =
      Parse({"prefill", "--go-sum", "go.sum", "--parallel", "8", "--cache-dir", "/c"});
  ASSERT_TRUE(cl.ok()) << cl.status();
  EXPECT_EQ(cl->mode, Mode::kPrefill);
  EXPECT_EQ(cl->prefill_input, "go.sum");
  EXPECT_EQ(cl->prefill_format, "go-sum");
  EXPECT_EQ(cl->prefill_parallel, 8u);
  EXPECT_EQ(*cl->cache_dir, "/c");
  cl = Parse({"prefill", "--list=mods.txt"});
  ASSERT_TRUE(cl.ok()) << cl.status();
  EXPECT_EQ(cl->prefill_format, "list");
  EXPECT_EQ(cl->prefill_parallel, 4u);

  cl = Parse({"export", "/tmp/tree", "--module", "github.com/acme/*", "-c", "m.yaml"});
  ASSERT_TRUE(cl.ok()) << cl.status();
  EXPECT_EQ(cl->mode, Mode::kExport);
  EXPECT_EQ(cl->export_dir, "/tmp/tree");
  EXPECT_EQ(cl->export_modules, "github.com/acme/*");
  EXPECT_EQ(cl->config_path, "m.yaml");

  EXPECT_THAT(Parse({"prefill"}).status().message(),
              HasSubstr("prefill requires one of --go-sum FILE, --go-mod FILE and --list FILE"));
  EXPECT_THAT(Parse({"prefill", "--go-sum", "a", "--list", "b"}).status().message(),
              HasSubstr("--list: give one of --go-sum, --go-mod and --list"));
  EXPECT_THAT(Parse({"prefill", "--list", "a", "--parallel", "0"}).status().message(),
              HasSubstr("--parallel: expected 1..64"));
  EXPECT_THAT(Parse({"--go-sum", "a"}).status().message(),
              HasSubstr("--go-sum: only for modgate prefill"));
  EXPECT_THAT(Parse({"prefill", "--list", "a", "--module", "x"}).status().message(),
              HasSubstr("--module: only for modgate export"));
  EXPECT_THAT(Parse({"export"}).status().message(), HasSubstr("export requires the directory"));
  EXPECT_THAT(Parse({"export", "--module", "x"}).status().message(),
              HasSubstr("export requires the directory"));
}

TEST(ParseCommandLineTest, BadFlags) {
  struct {
    std::vector<std::string> args;
    std::string error;
  } cases[] = {
      {{"--bogus"}, "unknown flag \"--bogus\""},
      {{"-x"}, "unknown flag \"-x\""},
      {{"--listen"}, "--listen requires a value"},
      {{"--listen", "8080"}, "--listen: invalid address \"8080\": expected host:port"},
      {{"--admin=localhost:99999"}, "--admin: invalid address \"localhost:99999\""},
      {{"--concurrency", "-1"}, "--concurrency: expected a non-negative integer, got \"-1\""},
      {{"--concurrency=lots"}, "--concurrency: expected a non-negative integer"},
      {{"--cache-max-bytes", "10GB"}, "--cache-max-bytes: expected a number of bytes"},
      {{"--log-level", "loud"}, "--log-level: invalid level \"loud\""},
      {{"--upstream", "https://proxy.golang.org,direct"},
       "--upstream: \"direct\" is not supported"},
      {{"--upstream=off"}, "--upstream: \"off\" is not supported"},
      {{"--version=2"}, "--version does not take a value"},
      {{"config.yaml"}, "unexpected argument \"config.yaml\""},
      {{"-c", "a.yaml", "validate"}, "\"validate\" must come first"},
      {{"validate"}, "validate requires -c FILE"},
      {{"--cache-dir="}, "--cache-dir: empty directory name"},
  };
  for (const auto& c : cases) {
    absl::StatusOr<CommandLine> cl = Parse(c.args);
    ASSERT_FALSE(cl.ok()) << c.args[0];
    EXPECT_EQ(cl.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_THAT(cl.status().message(), HasSubstr(c.error));
    // Every error comes with the usage text.
    EXPECT_THAT(cl.status().message(), HasSubstr("\n\nUsage:\n"));
  }
}

TEST(ParseCommandLineTest, ArgvOverload) {
  const char* argv[] = {"modgate", "--listen", "127.0.0.1:1234"};
  absl::StatusOr<CommandLine> cl = ParseCommandLine(3, argv);
  ASSERT_TRUE(cl.ok());
  EXPECT_EQ(*cl->listen, "127.0.0.1:1234");
}

TEST(DefaultConfigTest, LoadsAndValidates) {
  absl::StatusOr<v1::Bootstrap> b = LoadYaml(DefaultConfigYaml());
  ASSERT_TRUE(b.ok()) << b.status();
  setenv("HOME", "/home/test", 1);
  unsetenv("XDG_CACHE_HOME");
  ApplyDefaults(*b);
  ASSERT_TRUE(Validate(*b).ok()) << Validate(*b);
  EXPECT_EQ(b->listeners(0).address(), "127.0.0.1:8080");
  EXPECT_EQ(b->admin().address(), "127.0.0.1:9901");
  ASSERT_EQ(b->clusters_size(), 1);
  EXPECT_EQ(b->clusters(0).name(), "proxy_golang_org");
  EXPECT_EQ(b->clusters(0).endpoints(0).url(), "https://proxy.golang.org");
  ASSERT_EQ(b->routes_size(), 1);
  EXPECT_EQ(b->routes(0).cluster(), "proxy_golang_org");
  ASSERT_EQ(b->sumdbs_size(), 1);
  EXPECT_EQ(b->sumdbs(0).name(), "sum.golang.org");
  EXPECT_EQ(b->sumdbs(0).url(), "");
  EXPECT_EQ(b->cache().dir(), "/home/test/.cache/modgate");
}

TEST(BuildBootstrapTest, DefaultWithOverrides) {
  absl::StatusOr<CommandLine> cl =
      Parse({"--listen", "0.0.0.0:3000", "--admin=127.0.0.1:9999", "--upstream",
             "https://a.example,https://b.example|https://c.example", "--cache-dir", "/cache",
             "--cache-max-bytes", "1000", "--concurrency", "3", "--log-level", "warn"});
  ASSERT_TRUE(cl.ok()) << cl.status();
  absl::StatusOr<v1::Bootstrap> b = BuildBootstrap(*cl);
  ASSERT_TRUE(b.ok()) << b.status();
  ASSERT_EQ(b->listeners_size(), 1);
  EXPECT_EQ(b->listeners(0).address(), "0.0.0.0:3000");
  EXPECT_EQ(b->admin().address(), "127.0.0.1:9999");
  ASSERT_EQ(b->clusters_size(), 3);
  EXPECT_EQ(b->clusters(1).name(), "upstream1");
  EXPECT_EQ(b->clusters(1).connect_timeout().seconds(), 5);  // Defaults applied.
  ASSERT_EQ(b->routes_size(), 1);
  EXPECT_EQ(b->routes(0).fallback().steps_size(), 3);
  EXPECT_EQ(b->sumdbs(0).name(), "sum.golang.org");  // Kept from the default config.
  EXPECT_EQ(b->cache().dir(), "/cache");
  EXPECT_EQ(b->cache().max_bytes().value(), 1000u);
  EXPECT_EQ(b->concurrency(), 3u);
  EXPECT_EQ(b->log_level(), "warn");
}

TEST(BuildBootstrapTest, ValidationErrorsNameTheFileAndLine) {
  const char* dir = std::getenv("TEST_TMPDIR");
  std::string path = std::string(dir != nullptr ? dir : "/tmp") + "/broken.yaml";
  std::ofstream(path) << "cache: {dir: /c}\nroutes:\n  - cluster: nowhere\n";
  absl::StatusOr<CommandLine> cl = Parse({"validate", "-c", path});
  ASSERT_TRUE(cl.ok());
  absl::StatusOr<v1::Bootstrap> b = BuildBootstrap(*cl);
  ASSERT_FALSE(b.ok());
  EXPECT_EQ(b.status().message(),
            path + ": line 3: routes[0].cluster: unknown cluster \"nowhere\"");

  // --upstream repairs it: its clusters and route replace the broken ones.
  cl = Parse({"validate", "-c", path, "--upstream", "https://a"});
  ASSERT_TRUE(cl.ok());
  b = BuildBootstrap(*cl);
  ASSERT_TRUE(b.ok()) << b.status();

  cl = Parse({"-c", std::string(dir != nullptr ? dir : "/tmp") + "/missing.yaml"});
  EXPECT_EQ(BuildBootstrap(*cl).status().code(), absl::StatusCode::kNotFound);
}

TEST(UsageTest, MentionsEveryFlag) {
  for (const char* flag :
       {"-c", "--listen", "--admin", "--upstream", "--cache-dir", "--cache-max-bytes",
        "--concurrency", "--log-level", "--no-watch", "--version", "--help", "validate"}) {
    EXPECT_THAT(std::string(UsageText()), HasSubstr(flag));
  }
}

}  // namespace
}  // namespace modgate::config
