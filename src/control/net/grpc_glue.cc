#include "control/net/grpc_glue.h"

#include <grpcpp/security/credentials.h>
#include <grpcpp/security/server_credentials.h>

namespace stargate::control {

std::shared_ptr<grpc::ServerCredentials> ServerCredentials(const TlsPem* tls) {
  if (tls == nullptr) return grpc::InsecureServerCredentials();
  grpc::SslServerCredentialsOptions opts(GRPC_SSL_REQUEST_AND_REQUIRE_CLIENT_CERTIFICATE_AND_VERIFY);
  opts.pem_root_certs = tls->ca;
  opts.pem_key_cert_pairs.push_back({tls->key, tls->cert});
  return grpc::SslServerCredentials(opts);
}

std::shared_ptr<grpc::ChannelCredentials> ChannelCredentials(const TlsPem* tls) {
  if (tls == nullptr) return grpc::InsecureChannelCredentials();
  grpc::SslCredentialsOptions opts;
  opts.pem_root_certs = tls->ca;
  opts.pem_private_key = tls->key;
  opts.pem_cert_chain = tls->cert;
  return grpc::SslCredentials(opts);
}

gpr_timespec DeadlineAfter(Duration after) {
  // A span, not a point: gRPC adds it to its own monotonic clock.
  return gpr_time_from_nanos(after.nanos(), GPR_TIMESPAN);
}

}  // namespace stargate::control
