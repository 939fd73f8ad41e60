// File: cert.h
// Certificates for mutual TLS between agents and servers (`stargate cert`):
// a site's CA (EC P-256, self-signed), and leaf certificates it signs for
// servers and agents, each valid for both TLS server and client use, with
// the IP addresses and DNS names given as subject alternative names. Keys
// are written 0600. OpenSSL underneath.
// Thread-safe: each call has its own OpenSSL objects.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/status.h"

namespace stargate::control {

struct CertFiles {
  std::string cert_pem;
  std::string key_pem;
};

// A new CA named `name`, valid `days`.
StatusOr<CertFiles> MakeCa(const std::string& name, int days);

// A certificate for `name` signed by `ca`, valid `days`, for the given IP
// addresses and DNS names (the name itself counts as a DNS name).
StatusOr<CertFiles> IssueCert(const CertFiles& ca, const std::string& name, const std::vector<std::string>& ips,
                              const std::vector<std::string>& dns, int days);

// Why a leaf certificate cannot work in any TLS handshake, said before one
// is tried: unreadable, outside its validity at `now_unix_s`, or its key
// does not match `key_pem` (when given). InvalidArgument with a sentence
// an operator can act on.
Status CheckCert(const std::string& cert_pem, const std::string& key_pem, int64_t now_unix_s);
// Whether `ca_pem` signed `cert_pem` (false for unreadable input). A peer
// that trusts only that CA refuses a certificate it did not sign.
bool SignedBy(const std::string& cert_pem, const std::string& ca_pem);

// The certificate's CN and DNS subject alternative names.
StatusOr<std::vector<std::string>> CertNames(const std::string& cert_pem);

}  // namespace stargate::control
