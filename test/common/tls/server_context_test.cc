#include "source/common/tls/server_context.h"

#include <gtest/gtest.h>

#include "source/common/tls/certificate_names.h"
#include "source/common/tls/session_ticket_keys.h"

namespace modgate::tls {
namespace {

TEST(SessionTicketKeys, SameKeyWithinAPeriodAndAcceptedOneMore) {
  SessionTicketKeys keys(std::chrono::seconds(3600));
  const int64_t t = 36000 * 1000;
  auto key = keys.encryptionKey(t);
  EXPECT_EQ(key.name, keys.encryptionKey(t + 3599).name);
  SessionTicketKeys::Key found;
  bool current = false;
  ASSERT_TRUE(keys.decryptionKey(key.name.data(), t + 10, found, current));
  EXPECT_TRUE(current);
  EXPECT_EQ(found.aes_key, key.aes_key);
  EXPECT_EQ(found.hmac_key, key.hmac_key);
  // Next period: a new key encrypts; the old one still decrypts (renewal).
  EXPECT_NE(key.name, keys.encryptionKey(t + 3600).name);
  ASSERT_TRUE(keys.decryptionKey(key.name.data(), t + 3600, found, current));
  EXPECT_FALSE(current);
  // Two periods on: gone.
  EXPECT_FALSE(keys.decryptionKey(key.name.data(), t + 7200, found, current));
}

TEST(SessionTicketKeys, IndependentSecrets) {
  SessionTicketKeys a(std::chrono::seconds(60)), b(std::chrono::seconds(60));
  SessionTicketKeys::Key found;
  bool current = false;
  EXPECT_FALSE(b.decryptionKey(a.encryptionKey(1000).name.data(), 1000, found, current));
}

TEST(CertificateNames, DnsNameMatches) {
  EXPECT_TRUE(dnsNameMatches("proxy.example.com", "PROXY.example.com"));
  EXPECT_TRUE(dnsNameMatches("*.example.com", "proxy.example.com"));
  EXPECT_FALSE(dnsNameMatches("*.example.com", "a.b.example.com"));
  EXPECT_FALSE(dnsNameMatches("*.example.com", "example.com"));
  EXPECT_FALSE(dnsNameMatches("proxy.example.com", "other.example.com"));
}

TEST(ServerContext, ErrorsNameTheField) {
  ServerContextConfig config;
  EXPECT_EQ(ServerContext::create(config, nullptr).status().message(),
            "certificates: at least one certificate is required");
  config.certificates.push_back({"/nonexistent/chain.pem", "/nonexistent/key.pem"});
  auto context = ServerContext::create(config, nullptr);
  ASSERT_FALSE(context.ok());
  EXPECT_EQ(context.status().message(),
            "certificates[0].certificate_chain_file: cannot read /nonexistent/chain.pem");
}

}  // namespace
}  // namespace modgate::tls
