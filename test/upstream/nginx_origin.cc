#include "test/upstream/nginx_origin.h"

#include <arpa/inet.h>
#include <grp.h>
#include <netinet/in.h>
#include <pwd.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <iostream>
#include <set>
#include <sstream>
#include <thread>

#include "test/upstream/child_server.h"
#include "test/upstream/test_support.h"

namespace modgate::upstream::testing {
namespace {

constexpr char kNginx[] = "/usr/sbin/nginx";

int counter = 0;

// A port the kernel just handed out and released: nginx cannot listen on
// port 0 and report it.
uint16_t freePort() {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t length = sizeof(addr);
  uint16_t port = 0;
  if (bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0 &&
      getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &length) == 0) {
    port = ntohs(addr.sin_port);
  }
  close(fd);
  return port;
}

}  // namespace

std::string patternBytes(size_t size) {
  std::string out(size, '\0');
  for (size_t i = 0; i < size; ++i) out[i] = static_cast<char>(i % 251);
  return out;
}

bool writeFile(const std::string& path, const std::string& content) {
  std::ofstream out(path, std::ios::binary);
  out << content;
  return static_cast<bool>(out);
}

bool NginxOrigin::available() { return access(kNginx, X_OK) == 0; }

std::unique_ptr<NginxOrigin> NginxOrigin::start(const Options& options) {
  std::unique_ptr<NginxOrigin> origin(new NginxOrigin());
  origin->prefix_ = tempDir() + "/nginx-" + std::to_string(++counter);
  origin->docroot_ = origin->prefix_ + "/html";
  const std::string& p = origin->prefix_;
  for (const std::string& dir : {p, p + "/html", p + "/logs", p + "/tmp"}) {
    mkdir(dir.c_str(), 0755);
  }
  origin->port_ = freePort();
  std::string listen = "listen 127.0.0.1:" + std::to_string(origin->port_);
  if (options.tls) listen += " ssl";
  if (options.http2) listen += " http2";
  std::string tls;
  if (options.tls) {
    tls = "ssl_certificate " + options.cert + ";\n    ssl_certificate_key " + options.key + ";\n";
  }
  // As ourselves: nginx run by root otherwise chowns its temp directories
  // to "nobody", which the test sandbox's user namespace refuses.
  const passwd* user = getpwuid(geteuid());
  const group* grp = getgrgid(getegid());
  std::string user_line;
  if (user != nullptr && grp != nullptr) {
    user_line = std::string("user ") + user->pw_name + " " + grp->gr_name + ";\n";
  }
  std::string config =
      user_line +
      "daemon off;\n"
      "master_process off;\n"
      "worker_processes 1;\n"
      "pid " +
      p +
      "/nginx.pid;\n"
      "error_log " +
      p +
      "/logs/error.log info;\n"
      "events { worker_connections 1024; }\n"
      "http {\n"
      "  log_format conn '$connection $connection_requests $server_protocol $status "
      "$request_uri';\n"
      "  access_log " +
      p +
      "/logs/access.log conn;\n"
      "  client_body_temp_path " +
      p +
      "/tmp/body;\n"
      "  proxy_temp_path " +
      p +
      "/tmp/proxy;\n"
      "  fastcgi_temp_path " +
      p +
      "/tmp/fastcgi;\n"
      "  uwsgi_temp_path " +
      p +
      "/tmp/uwsgi;\n"
      "  scgi_temp_path " +
      p +
      "/tmp/scgi;\n"
      "  default_type application/octet-stream;\n"
      "  keepalive_requests " +
      std::to_string(options.keepalive_requests) +
      ";\n"
      "  server {\n"
      "    " +
      listen +
      ";\n"
      "    " +
      tls + "    root " + p +
      "/html;\n"
      "    location = /redirect { return 302 /hello; }\n"
      "    location = /redirect-chain { return 301 /redirect; }\n"
      "    location = /rst { return 444; }\n" +
      options.server_extra +
      "  }\n"
      "}\n";
  std::string conf_file = p + "/nginx.conf";
  if (!writeFile(conf_file, config)) return nullptr;
  std::string error_log = p + "/logs/error.log";
  const uint16_t port = origin->port_;
  origin->process_ = ChildServer::start({kNginx, "-p", p, "-c", conf_file, "-e", error_log},
                                        [port] { return acceptingOnLoopback(port); });
  if (origin->process_ != nullptr) return origin;
  std::cerr << "nginx did not start:\n" << readFile(error_log) << std::endl;
  return nullptr;
}

NginxOrigin::~NginxOrigin() = default;

std::vector<NginxOrigin::LogLine> NginxOrigin::accessLog() const {
  // nginx logs a request after its response is sent, so a client can be
  // done before the line is written: wait until the log stops growing
  // (bounded) instead of racing it.
  std::string text = readFile(prefix_ + "/logs/access.log");
  for (int i = 0; i < 50; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    std::string again = readFile(prefix_ + "/logs/access.log");
    if (again == text && !text.empty()) break;
    text = std::move(again);
  }
  std::vector<LogLine> lines;
  std::istringstream in(text);
  LogLine line;
  while (in >> line.connection >> line.request >> line.protocol >> line.status >> line.uri) {
    lines.push_back(line);
  }
  return lines;
}

size_t NginxOrigin::distinctConnections() const {
  std::set<std::string> connections;
  for (const LogLine& line : accessLog()) connections.insert(line.connection);
  return connections.size();
}

}  // namespace modgate::upstream::testing
