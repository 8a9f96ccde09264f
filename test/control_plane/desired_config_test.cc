// Reading, merging and validating the desired config directory, as laid out
// by hand and by a Kubernetes ConfigMap volume.

#include "source/control_plane/desired_config.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "api/modgate/config/v1/resources.pb.h"

namespace modgate::control_plane {
namespace {

namespace fs = std::filesystem;

class DesiredConfigTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::path(::testing::TempDir()) /
           ::testing::UnitTest::GetInstance()->current_test_info()->name();
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    config_.set_config_dir(dir_.string());
  }
  void write(const std::string& name, const std::string& text) {
    std::ofstream(dir_ / name) << text;
  }
  absl::StatusOr<DesiredConfig> load() { return LoadDesiredConfig(config_, 1, {}); }

  fs::path dir_;
  controlplane::v1::ControlPlane config_;
};

TEST_F(DesiredConfigTest, MergesFilesInNameOrder) {
  write("20-routes.yaml", "routes:\n  - match: {prefix: \"\"}\n    cluster: b\n");
  write("10-clusters.yaml",
        "clusters:\n  - name: a\n    endpoints: [{url: \"http://127.0.0.1:1\"}]\n"
        "  - name: b\n    endpoints: [{url: \"http://127.0.0.1:2\"}]\nruntime: {k.one: 1}\n");
  write("30-more.json", R"({"runtime": {"k.two": 2}})");
  write("notes.txt", "not a config");
  write(".hidden.yaml", "garbage: [");
  auto desired = load();
  ASSERT_TRUE(desired.ok()) << desired.status();
  EXPECT_EQ(desired->files,
            (std::vector<std::string>{"10-clusters.yaml", "20-routes.yaml", "30-more.json"}));
  const Snapshot& base = *desired->base;
  EXPECT_EQ(base.find(kClusterType)->resources.size(), 2u);
  EXPECT_EQ(base.find(kRouteTableType)->resources.count("routes"), 1u);
  config::v1::Runtime runtime;
  ASSERT_TRUE(base.find(kRuntimeType)->resources.at("runtime").body.UnpackTo(&runtime));
  EXPECT_EQ(runtime.values().at("k.one"), 1u);
  EXPECT_EQ(runtime.values().at("k.two"), 2u);

  // Same bytes, same digest and version; any byte changed, new ones.
  auto again = load();
  EXPECT_EQ(again->digest, desired->digest);
  EXPECT_EQ(again->base->version, desired->base->version);
  write("30-more.json", R"({"runtime": {"k.two": 3}})");
  auto changed = load();
  EXPECT_NE(changed->digest, desired->digest);
  EXPECT_NE(changed->base->version, desired->base->version);
}

TEST_F(DesiredConfigTest, BuiltAgainFromItsFilesBytesItIsTheSameVersion) {
  write("10-clusters.yaml",
        "clusters:\n  - name: a\n    endpoints: [{url: \"http://127.0.0.1:1\"}]\n");
  write("20-routes.yaml", "routes:\n  - match: {prefix: \"\"}\n    cluster: a\n");
  auto desired = load();
  ASSERT_TRUE(desired.ok()) << desired.status();
  ASSERT_EQ(desired->contents.size(), desired->files.size());
  // What a config rollout keeps of the version before it, after the
  // directory changed.
  std::vector<std::pair<std::string, std::string>> kept;
  for (size_t i = 0; i < desired->files.size(); ++i) {
    kept.emplace_back(desired->files[i], desired->contents[i]);
  }
  write("20-routes.yaml", "garbage: [");
  auto rebuilt = BuildDesiredConfig(config_, "state.json", kept, 2, {});
  ASSERT_TRUE(rebuilt.ok()) << rebuilt.status();
  EXPECT_EQ(rebuilt->digest, desired->digest);
  EXPECT_EQ(rebuilt->base->version, desired->base->version);
  kept[1].second = "garbage: [";
  auto broken = BuildDesiredConfig(config_, "state.json", kept, 2, {});
  ASSERT_FALSE(broken.ok());
  EXPECT_NE(broken.status().message().find("state.json/20-routes.yaml"), std::string::npos)
      << broken.status();
}

TEST_F(DesiredConfigTest, InvalidConfigNamesFileAndField) {
  write("a.yaml", "clusters:\n  - name: a\n    endpoints: [{url: \"ftp://x\"}]\n");
  auto desired = load();
  ASSERT_FALSE(desired.ok());
  EXPECT_NE(desired.status().message().find("clusters[0].endpoints[0].url"), std::string::npos)
      << desired.status();
  write("a.yaml", "clusterz: []\n");
  desired = load();
  ASSERT_FALSE(desired.ok());
  EXPECT_NE(desired.status().message().find("a.yaml"), std::string::npos) << desired.status();
  EXPECT_NE(desired.status().message().find("clusterz"), std::string::npos) << desired.status();
}

TEST_F(DesiredConfigTest, ConfigMapLayout) {
  // kubelet: <dir>/..2026_x/<files>, ..data -> ..2026_x, <file> -> ..data/<file>.
  fs::create_directories(dir_ / "..2026_1");
  std::ofstream(dir_ / "..2026_1" / "config.yaml")
      << "clusters:\n  - name: a\n    endpoints: [{url: \"http://127.0.0.1:1\"}]\n";
  fs::create_directory_symlink("..2026_1", dir_ / "..data");
  fs::create_symlink("..data/config.yaml", dir_ / "config.yaml");
  auto desired = load();
  ASSERT_TRUE(desired.ok()) << desired.status();
  EXPECT_EQ(desired->files, std::vector<std::string>{"config.yaml"});
  EXPECT_EQ(desired->base->find(kClusterType)->resources.count("a"), 1u);
}

TEST_F(DesiredConfigTest, NodeGroupsOverrideAndMatch) {
  write("base.yaml",
        "clusters:\n  - name: old\n    endpoints: [{url: \"http://127.0.0.1:1\"}]\n"
        "  - name: new\n    endpoints: [{url: \"http://127.0.0.1:2\"}]\n"
        "routes:\n  - match: {prefix: \"\"}\n    cluster: old\n");
  auto* group = config_.add_node_groups();
  group->set_name("canary");
  (*group->mutable_match()->mutable_labels())["tier"] = "canary";
  group->mutable_match()->set_id_glob("ci-*");
  auto* route = group->mutable_overrides()->add_routes();
  route->mutable_match()->set_prefix("");
  route->set_cluster("new");
  auto desired = load();
  ASSERT_TRUE(desired.ok()) << desired.status();

  envoy::config::core::v3::Node node;
  node.set_id("ci-7");
  (*node.mutable_metadata()->mutable_fields())["tier"].set_string_value("canary");
  std::string name;
  const Snapshot& chosen = desired->snapshotFor(node, &name);
  EXPECT_EQ(name, "canary");
  EXPECT_NE(chosen.version, desired->base->version);
  node.set_id("build-7");  // the glob no longer matches
  EXPECT_EQ(&desired->snapshotFor(node, &name), desired->base.get());
  EXPECT_EQ(name, "");

  // An override that breaks validation fails the whole config, naming it.
  group->mutable_overrides()->mutable_routes(0)->set_cluster("missing");
  desired = load();
  ASSERT_FALSE(desired.ok());
  EXPECT_NE(desired.status().message().find("node group canary"), std::string::npos)
      << desired.status();
}

TEST(ControlPlaneConfigTest, Validation) {
  controlplane::v1::ControlPlane config;
  config.set_address("nowhere");
  config.add_node_groups()->set_name("a");
  config.add_node_groups()->set_name("a");
  config.mutable_node_groups(1)->mutable_match()->set_id_glob("[");
  const std::string message(ValidateControlPlane(config).message());
  EXPECT_NE(message.find("config_dir: required"), std::string::npos) << message;
  EXPECT_NE(message.find("address: "), std::string::npos) << message;
  EXPECT_NE(message.find("node_groups[1].name: duplicate node group \"a\""), std::string::npos)
      << message;
  EXPECT_NE(message.find("node_groups[1].match.id_glob"), std::string::npos) << message;
}

TEST(ControlPlaneConfigTest, TlsValidation) {
  controlplane::v1::ControlPlane config;
  config.set_config_dir("/etc/modgate/desired");
  config.mutable_tls()->add_alpn_protocols("http/1.1");
  config.mutable_tls()->set_client_certificate(config::v1::DownstreamTls::REQUIRE);
  const std::string message(ValidateControlPlane(config).message());
  EXPECT_NE(message.find("tls.certificates: at least one is required"), std::string::npos)
      << message;
  EXPECT_NE(message.find("tls.alpn_protocols: must include \"h2\""), std::string::npos) << message;
  EXPECT_NE(message.find("tls.client_certificate: needs client_ca_file"), std::string::npos)
      << message;

  auto* certificate = config.mutable_tls()->add_certificates();
  certificate->set_certificate_chain_file("/tls/tls.crt");
  certificate->set_private_key_file("/tls/tls.key");
  config.mutable_tls()->set_alpn_protocols(0, "h2");
  config.mutable_tls()->set_client_ca_file("/tls/ca.crt");
  EXPECT_TRUE(ValidateControlPlane(config).ok()) << ValidateControlPlane(config);
}

}  // namespace
}  // namespace modgate::control_plane
