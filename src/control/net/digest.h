// File: digest.h
// SHA-256 for secrets the server keeps only as hashes (join tokens, node
// credentials) and for checkpoint files (streamed), and a comparison whose time does not depend on where two
// strings first differ.
#pragma once

#include <string>
#include <string_view>

namespace stargate::control {

// Lower-case hex of SHA-256(`data`).
std::string Sha256Hex(std::string_view data);

// Lower-case hex of HMAC-SHA256(`key`, `data`): a capability one party
// derives from a secret it shares with another (a checkpoint ticket).
std::string HmacSha256Hex(std::string_view key, std::string_view data);

// The bearer that reads one checkpoint directory `dir` from an agent whose
// log server has `log_token` (checkpoint_messages.h): the server, which
// knows every node's token, hands it to the peer that copies it, and that
// peer can read nothing else there.
inline std::string CheckpointTicket(std::string_view log_token, std::string_view dir) {
  return HmacSha256Hex(log_token, std::string("checkpoint:").append(dir));
}

// SHA-256 over data given in pieces (a checkpoint file read in chunks).
class Sha256Stream {
 public:
  Sha256Stream();
  ~Sha256Stream();
  Sha256Stream(const Sha256Stream&) = delete;
  Sha256Stream& operator=(const Sha256Stream&) = delete;
  void Update(std::string_view data);
  // Lower-case hex of the digest of everything given; call once.
  std::string Hex();

 private:
  void* ctx_;  // EVP_MD_CTX, kept out of this header
};

// a == b, in time that depends only on their lengths.
bool ConstantTimeEquals(std::string_view a, std::string_view b);

}  // namespace stargate::control
