#include "source/config/dynamic_config.h"

#include <sys/stat.h>

#include <cstdlib>
#include <fstream>
#include <string>

#include "gtest/gtest.h"
#include "source/config/command_line.h"
#include "source/config/loader.h"

namespace modgate::config {
namespace {

std::string TempDir() {
  const char* dir = std::getenv("TEST_TMPDIR");
  return dir != nullptr ? dir : "/tmp";
}

v1::DynamicConfig Pushed() {
  v1::DynamicConfig dynamic;
  v1::Cluster* cluster = dynamic.add_clusters();
  cluster->set_name("public");
  cluster->add_endpoints()->set_url("http://127.0.0.1:3000");
  v1::Route* route = dynamic.add_routes();
  route->set_name("all");
  route->set_cluster("public");
  (*dynamic.mutable_runtime())["routes.all.public"] = 5;
  return dynamic;
}

TEST(MergeDynamicConfigTest, StaticFirstThenDynamic) {
  absl::StatusOr<v1::Bootstrap> local = LoadYaml(R"(
clusters:
  - name: private
    endpoints: [{url: "http://127.0.0.1:4000"}]
routes:
  - name: corp
    match: {prefix: corp.example/}
    cluster: private
runtime:
  routes.all.public: 1
  other: 2
)");
  ASSERT_TRUE(local.ok()) << local.status();
  absl::StatusOr<v1::Bootstrap> merged = MergeDynamicConfig(*local, Pushed());
  ASSERT_TRUE(merged.ok()) << merged.status();
  ASSERT_EQ(merged->clusters_size(), 2);
  EXPECT_EQ(merged->clusters(0).name(), "private");
  EXPECT_EQ(merged->clusters(1).name(), "public");
  ASSERT_EQ(merged->routes_size(), 2);
  EXPECT_EQ(merged->routes(0).name(), "corp");
  EXPECT_EQ(merged->routes(1).name(), "all");
  EXPECT_EQ(merged->runtime().at("routes.all.public"), 5u);
  EXPECT_EQ(merged->runtime().at("other"), 2u);
}

TEST(MergeDynamicConfigTest, ANameInBothIsAnErrorNamingTheField) {
  v1::Bootstrap local;
  local.add_clusters()->set_name("public");
  local.add_listeners()->set_name("main");
  v1::DynamicConfig dynamic = Pushed();
  dynamic.add_listeners()->set_name("main");
  absl::StatusOr<v1::Bootstrap> merged = MergeDynamicConfig(local, dynamic);
  ASSERT_FALSE(merged.ok());
  EXPECT_EQ(merged.status().message(),
            "listeners[1].name: \"main\" is defined both in the local file and by the control "
            "plane\n"
            "clusters[1].name: \"public\" is defined both in the local file and by the control "
            "plane");
}

TEST(DynamicConfigStoreTest, SavesAtomicallyAndLoadsBack) {
  const std::string dir = TempDir() + "/store-test";
  const std::string path = DynamicConfigPath(dir);
  EXPECT_EQ(path, dir + "/control_plane/last_acked.pb");
  absl::StatusOr<std::optional<v1::DynamicConfig>> none = LoadDynamicConfig(path);
  ASSERT_TRUE(none.ok()) << none.status();
  EXPECT_FALSE(none->has_value());

  v1::DynamicConfig dynamic = Pushed();
  (*dynamic.mutable_resource_versions())["type.googleapis.com/modgate.config.v1.Cluster public"] =
      "0123456789abcdef";
  dynamic.set_source_url("http://127.0.0.1:18000");
  ASSERT_TRUE(SaveDynamicConfig(path, dynamic).ok());
  dynamic.set_acked_at_unix_ms(42);
  ASSERT_TRUE(SaveDynamicConfig(path, dynamic).ok());  // over the first
  absl::StatusOr<std::optional<v1::DynamicConfig>> loaded = LoadDynamicConfig(path);
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  ASSERT_TRUE(loaded->has_value());
  EXPECT_EQ((*loaded)->SerializeAsString(), dynamic.SerializeAsString());

  // No temp file left behind.
  struct stat st;
  EXPECT_NE(stat((path + ".tmp." + std::to_string(getpid())).c_str(), &st), 0);

  std::ofstream(path, std::ios::trunc) << "\xff\xff garbage";
  EXPECT_FALSE(LoadDynamicConfig(path).ok());
}

TEST(BuildBootstrapTest, APushedConfigIsValidatedLikeAFile) {
  const std::string file = TempDir() + "/sidecar.yaml";
  std::ofstream(file) << "cache: {dir: " << TempDir() << "/cache}\n"
                      << "control_plane: {urls: [\"http://127.0.0.1:18000\"]}\n";
  CommandLine cl;
  cl.config_path = file;
  // Nothing pushed yet: a sidecar may start without routes.
  absl::StatusOr<v1::Bootstrap> empty = BuildBootstrap(cl);
  ASSERT_TRUE(empty.ok()) << empty.status();
  EXPECT_EQ(empty->routes_size(), 0);

  v1::DynamicConfig dynamic = Pushed();
  absl::StatusOr<v1::Bootstrap> merged = BuildBootstrap(cl, nullptr, &dynamic);
  ASSERT_TRUE(merged.ok()) << merged.status();
  EXPECT_EQ(merged->routes(0).cluster(), "public");

  dynamic.mutable_routes(0)->set_cluster("missing");
  dynamic.mutable_clusters(0)->mutable_endpoints(0)->set_url("ftp://x");
  absl::StatusOr<v1::Bootstrap> bad = BuildBootstrap(cl, nullptr, &dynamic);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().message(),
            file +
                ": clusters[0].endpoints[0].url: invalid URL \"ftp://x\": unsupported scheme "
                "\"ftp\" (expected http, https or file)\n" +
                file + ": routes[0].cluster: unknown cluster \"missing\"");
}

}  // namespace
}  // namespace modgate::config
