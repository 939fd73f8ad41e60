#include "control/net/cert.h"

#include <openssl/bio.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <algorithm>
#include <memory>

#include <fmt/format.h>

namespace stargate::control {
namespace {

template <typename T, void (*F)(T*)>
struct Deleter {
  void operator()(T* p) const { F(p); }
};
using Key = std::unique_ptr<EVP_PKEY, Deleter<EVP_PKEY, EVP_PKEY_free>>;
using Cert = std::unique_ptr<X509, Deleter<X509, X509_free>>;
using Bio = std::unique_ptr<BIO, Deleter<BIO, BIO_free_all>>;

Status Failed(const char* what) { return absl::InternalError(fmt::format("openssl: {} failed", what)); }

StatusOr<Key> NewKey() {
  Key key(EVP_EC_gen("P-256"));
  if (!key) return Failed("EC key generation");
  return key;
}

std::string Pem(int (*write)(BIO*, void*), void* obj) {
  Bio bio(BIO_new(BIO_s_mem()));
  write(bio.get(), obj);
  char* data = nullptr;
  const long n = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<size_t>(n));
}

std::string CertPem(X509* c) {
  return Pem([](BIO* b, void* x) { return PEM_write_bio_X509(b, static_cast<X509*>(x)); }, c);
}
std::string KeyPem(EVP_PKEY* k) {
  return Pem(
      [](BIO* b, void* x) {
        return PEM_write_bio_PrivateKey(b, static_cast<EVP_PKEY*>(x), nullptr, nullptr, 0, nullptr, nullptr);
      },
      k);
}

Status AddExt(X509* cert, X509* issuer, int nid, const std::string& value) {
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, issuer, cert, nullptr, nullptr, 0);
  X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value.c_str());
  if (ext == nullptr) return absl::InvalidArgumentError(fmt::format("bad certificate extension '{}'", value));
  const int ok = X509_add_ext(cert, ext, -1);
  X509_EXTENSION_free(ext);
  return ok == 1 ? Status() : Failed("X509_add_ext");
}

StatusOr<Cert> NewCert(const std::string& name, EVP_PKEY* key, int days) {
  Cert cert(X509_new());
  if (!cert) return Failed("X509_new");
  X509_set_version(cert.get(), 2);
  unsigned char serial[16];
  RAND_bytes(serial, sizeof serial);
  serial[0] &= 0x7f;  // positive
  BIGNUM* bn = BN_bin2bn(serial, sizeof serial, nullptr);
  BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(cert.get()));
  BN_free(bn);
  X509_gmtime_adj(X509_getm_notBefore(cert.get()), -3600);  // an hour of clock skew
  X509_gmtime_adj(X509_getm_notAfter(cert.get()), static_cast<long>(days) * 86400);
  X509_set_pubkey(cert.get(), key);
  X509_NAME* subject = X509_get_subject_name(cert.get());
  X509_NAME_add_entry_by_txt(subject, "O", MBSTRING_UTF8, reinterpret_cast<const unsigned char*>("Stargate"), -1, -1,
                             0);
  X509_NAME_add_entry_by_txt(subject, "CN", MBSTRING_UTF8, reinterpret_cast<const unsigned char*>(name.c_str()), -1, -1,
                             0);
  return cert;
}

StatusOr<Key> ReadKey(const std::string& pem) {
  Bio bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  Key key(PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr));
  if (!key) return absl::InvalidArgumentError("the CA key is not a PEM private key");
  return key;
}

StatusOr<Cert> ReadCert(const std::string& pem) {
  Bio bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  Cert cert(PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr));
  if (!cert) return absl::InvalidArgumentError("the CA certificate is not PEM");
  return cert;
}

}  // namespace

StatusOr<CertFiles> MakeCa(const std::string& name, int days) {
  SG_ASSIGN_OR_RETURN(Key key, NewKey());
  SG_ASSIGN_OR_RETURN(Cert cert, NewCert(name, key.get(), days));
  X509_set_issuer_name(cert.get(), X509_get_subject_name(cert.get()));
  SG_RETURN_IF_ERROR(AddExt(cert.get(), cert.get(), NID_basic_constraints, "critical,CA:TRUE,pathlen:0"));
  SG_RETURN_IF_ERROR(AddExt(cert.get(), cert.get(), NID_key_usage, "critical,keyCertSign,cRLSign"));
  SG_RETURN_IF_ERROR(AddExt(cert.get(), cert.get(), NID_subject_key_identifier, "hash"));
  if (X509_sign(cert.get(), key.get(), EVP_sha256()) == 0) return Failed("signing the CA");
  return CertFiles{CertPem(cert.get()), KeyPem(key.get())};
}

StatusOr<CertFiles> IssueCert(const CertFiles& ca, const std::string& name, const std::vector<std::string>& ips,
                              const std::vector<std::string>& dns, int days) {
  SG_ASSIGN_OR_RETURN(Key ca_key, ReadKey(ca.key_pem));
  SG_ASSIGN_OR_RETURN(Cert ca_cert, ReadCert(ca.cert_pem));
  SG_ASSIGN_OR_RETURN(Key key, NewKey());
  SG_ASSIGN_OR_RETURN(Cert cert, NewCert(name, key.get(), days));
  X509_set_issuer_name(cert.get(), X509_get_subject_name(ca_cert.get()));
  std::string san = "DNS:" + name;
  for (const std::string& d : dns) san += ",DNS:" + d;
  for (const std::string& ip : ips) san += ",IP:" + ip;
  SG_RETURN_IF_ERROR(AddExt(cert.get(), ca_cert.get(), NID_basic_constraints, "critical,CA:FALSE"));
  SG_RETURN_IF_ERROR(AddExt(cert.get(), ca_cert.get(), NID_key_usage, "critical,digitalSignature,keyEncipherment"));
  SG_RETURN_IF_ERROR(AddExt(cert.get(), ca_cert.get(), NID_ext_key_usage, "serverAuth,clientAuth"));
  SG_RETURN_IF_ERROR(AddExt(cert.get(), ca_cert.get(), NID_subject_alt_name, san));
  if (X509_sign(cert.get(), ca_key.get(), EVP_sha256()) == 0) return Failed("signing the certificate");
  return CertFiles{CertPem(cert.get()), KeyPem(key.get())};
}

}  // namespace stargate::control

namespace stargate::control {

Status CheckCert(const std::string& cert_pem, const std::string& key_pem, int64_t now_unix_s) {
  StatusOr<Cert> cert = ReadCert(cert_pem);
  if (!cert.ok()) return absl::InvalidArgumentError("the certificate (--tls-cert) is not a PEM certificate");
  time_t now = static_cast<time_t>(now_unix_s);
  if (X509_cmp_time(X509_get0_notBefore(cert->get()), &now) > 0) {
    return absl::InvalidArgumentError("the certificate (--tls-cert) is not valid yet (check this host's clock)");
  }
  if (X509_cmp_time(X509_get0_notAfter(cert->get()), &now) < 0) {
    return absl::InvalidArgumentError(
        "the certificate (--tls-cert) has expired: issue a new one with `stargate cert issue`");
  }
  if (!key_pem.empty()) {
    StatusOr<Key> key = ReadKey(key_pem);
    if (!key.ok()) return absl::InvalidArgumentError("the key (--tls-key) is not a PEM private key");
    if (X509_check_private_key(cert->get(), key->get()) != 1) {
      return absl::InvalidArgumentError("the key (--tls-key) is not the certificate's (--tls-cert) key");
    }
  }
  return Status();
}

bool SignedBy(const std::string& cert_pem, const std::string& ca_pem) {
  StatusOr<Cert> cert = ReadCert(cert_pem);
  StatusOr<Cert> ca = ReadCert(ca_pem);
  if (!cert.ok() || !ca.ok()) return false;
  Key ca_key(X509_get_pubkey(ca->get()));
  return ca_key && X509_verify(cert->get(), ca_key.get()) == 1;
}

StatusOr<std::vector<std::string>> CertNames(const std::string& cert_pem) {
  StatusOr<Cert> cert = ReadCert(cert_pem);
  if (!cert.ok()) return absl::InvalidArgumentError("not a PEM certificate");
  std::vector<std::string> names;
  char cn[256] = {};
  if (X509_NAME_get_text_by_NID(X509_get_subject_name(cert->get()), NID_commonName, cn, sizeof cn) > 0) {
    names.emplace_back(cn);
  }
  auto* sans = static_cast<GENERAL_NAMES*>(X509_get_ext_d2i(cert->get(), NID_subject_alt_name, nullptr, nullptr));
  if (sans != nullptr) {
    for (int i = 0; i < sk_GENERAL_NAME_num(sans); ++i) {
      const GENERAL_NAME* g = sk_GENERAL_NAME_value(sans, i);
      if (g->type != GEN_DNS) continue;
      const ASN1_IA5STRING* s = g->d.dNSName;
      std::string name(reinterpret_cast<const char*>(ASN1_STRING_get0_data(s)),
                       static_cast<size_t>(ASN1_STRING_length(s)));
      if (std::find(names.begin(), names.end(), name) == names.end()) names.push_back(std::move(name));
    }
    GENERAL_NAMES_free(sans);
  }
  return names;
}

}  // namespace stargate::control
