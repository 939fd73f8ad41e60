// File: etcd_process.h (tests)
// A throwaway single-member etcd on loopback for one test: its own data
// dir and free ports, killed (SIGKILL, by PID) and removed afterwards.
#pragma once

#include <arpa/inet.h>
#include <httplib.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <string>
#include <thread>

#include <fmt/format.h>

namespace stargate::control::testing {

inline int FreePort() {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
  socklen_t len = sizeof a;
  getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  close(fd);
  return ntohs(a.sin_port);
}

class EtcdProcess {
 public:
  static constexpr const char* kBinary = "/usr/bin/etcd";
  static bool Available() { return access(kBinary, X_OK) == 0; }

  // Starts etcd in `dir` and waits (up to 10 s) until it is healthy.
  explicit EtcdProcess(const std::string& dir) {
    client_port_ = FreePort();
    const int peer = FreePort();
    const std::string client = fmt::format("http://127.0.0.1:{}", client_port_);
    const std::string peer_url = fmt::format("http://127.0.0.1:{}", peer);
    const std::string data = dir + "/etcd";
    const std::string log = dir + "/etcd.log";
    pid_ = fork();
    if (pid_ == 0) {
      freopen(log.c_str(), "w", stdout);
      freopen(log.c_str(), "w", stderr);
      execl(kBinary, "etcd", "--name", "t", "--data-dir", data.c_str(), "--listen-client-urls", client.c_str(),
            "--advertise-client-urls", client.c_str(), "--listen-peer-urls", peer_url.c_str(),
            "--initial-advertise-peer-urls", peer_url.c_str(), "--initial-cluster", ("t=" + peer_url).c_str(),
            static_cast<char*>(nullptr));
      _exit(127);
    }
    httplib::Client cli("127.0.0.1", client_port_);
    cli.set_connection_timeout(0, 200000);
    for (int i = 0; i < 200; ++i) {
      auto res = cli.Get("/health");
      if (res && res->status == 200 && res->body.find("true") != std::string::npos) {
        healthy_ = true;
        break;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
  }
  ~EtcdProcess() {
    if (pid_ > 0) {
      kill(pid_, SIGKILL);
      waitpid(pid_, nullptr, 0);
    }
  }
  EtcdProcess(const EtcdProcess&) = delete;
  EtcdProcess& operator=(const EtcdProcess&) = delete;

  bool healthy() const { return healthy_; }
  std::string endpoint() const { return fmt::format("127.0.0.1:{}", client_port_); }

 private:
  pid_t pid_ = -1;
  int client_port_ = 0;
  bool healthy_ = false;
};

}  // namespace stargate::control::testing
