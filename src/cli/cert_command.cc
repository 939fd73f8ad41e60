// `stargate cert ca|issue`: the certificates for mutual TLS between a
// site's agents and the servers (control/net/cert.h).
#include <fcntl.h>
#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>
#include <CLI/CLI.hpp>

#include <filesystem>
#include <fstream>
#include <iostream>
#include <iterator>
#include <memory>

#include "cli/commands.h"
#include "control/net/cert.h"

namespace stargate::cli {
namespace {

struct CertOptions {
  std::string dir = "certs";
  std::string name;
  std::vector<std::string> ips, dns;
  int days = 365;
};

bool Write(const std::string& path, const std::string& text, mode_t mode) {
  std::filesystem::remove(path);
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL, mode);  // keys are never world-readable
  if (fd < 0) return false;
  const bool ok = ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size());
  ::close(fd);
  return ok;
}

std::string Read(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

int Save(const std::string& dir, const std::string& base, const control::CertFiles& f) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  const std::string cert = dir + "/" + base + ".crt", key = dir + "/" + base + ".key";
  if (!Write(cert, f.cert_pem, 0644) || !Write(key, f.key_pem, 0600)) {
    std::cerr << "error: cannot write " << cert << " and " << key << "\n";
    return 1;
  }
  fmt::print("wrote {} and {}\n", cert, key);
  return 0;
}

}  // namespace

bool ReadWholeFile(const std::string& path, const std::string& flag, std::string* out) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    std::cerr << "error: " << flag << ": cannot read " << path << "\n";
    return false;
  }
  *out = std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  return true;
}

void AddTlsFlags(CLI::App* cmd, TlsFlags* flags, const std::string& whose, const std::string& ca_role) {
  cmd->add_option("--tls-cert", flags->cert, whose + " certificate (stargate cert issue)");
  cmd->add_option("--tls-key", flags->key, "... its key");
  cmd->add_option("--tls-ca", flags->ca, "... and the CA " + ca_role);
}

bool ReadTlsFlags(const TlsFlags& flags, std::string* cert, std::string* key, std::string* ca) {
  if (flags.cert.empty() || flags.key.empty() || flags.ca.empty()) {
    std::cerr << "error: --tls-cert, --tls-key and --tls-ca go together\n";
    return false;
  }
  return ReadWholeFile(flags.cert, "--tls-cert", cert) && ReadWholeFile(flags.key, "--tls-key", key) &&
         ReadWholeFile(flags.ca, "--tls-ca", ca);
}

void AddCertCommands(CLI::App& app, int* exit_code) {
  auto o = std::make_shared<CertOptions>();
  CLI::App* cert = app.add_subcommand("cert", "Certificates for mutual TLS between agents and servers");
  cert->require_subcommand(1);
  CLI::App* ca = cert->add_subcommand("ca", "Make a site's CA: DIR/ca.crt and DIR/ca.key");
  ca->add_option("--dir", o->dir, "Where the files go")->capture_default_str();
  ca->add_option("--name", o->name, "The CA's common name (default: stargate-ca)");
  ca->add_option("--days", o->days, "Validity")->capture_default_str()->check(CLI::Range(1, 36500));
  ca->callback([o, exit_code] {
    StatusOr<control::CertFiles> f = control::MakeCa(o->name.empty() ? "stargate-ca" : o->name, o->days);
    if (!f.ok()) {
      std::cerr << "error: " << f.status().message() << "\n";
      *exit_code = 1;
      return;
    }
    *exit_code = Save(o->dir, "ca", *f);
  });
  CLI::App* issue = cert->add_subcommand("issue", "Issue DIR/NAME.crt and DIR/NAME.key, signed by DIR/ca.*");
  issue->add_option("--dir", o->dir, "Where the CA is and the files go")->capture_default_str();
  issue->add_option("--name", o->name, "The server's or node's name (also a DNS name in the certificate)")->required();
  issue->add_option("--ip", o->ips, "An IP address it is reached at (repeatable)");
  issue->add_option("--dns", o->dns, "Another DNS name (repeatable)");
  issue->add_option("--days", o->days, "Validity")->capture_default_str()->check(CLI::Range(1, 36500));
  issue->callback([o, exit_code] {
    const control::CertFiles ca{Read(o->dir + "/ca.crt"), Read(o->dir + "/ca.key")};
    if (ca.cert_pem.empty() || ca.key_pem.empty()) {
      std::cerr << "error: no CA in " << o->dir << " (make one with `stargate cert ca --dir " << o->dir << "`)\n";
      *exit_code = 1;
      return;
    }
    StatusOr<control::CertFiles> f = control::IssueCert(ca, o->name, o->ips, o->dns, o->days);
    if (!f.ok()) {
      std::cerr << "error: " << f.status().message() << "\n";
      *exit_code = 1;
      return;
    }
    *exit_code = Save(o->dir, o->name, *f);
  });
}

}  // namespace stargate::cli
