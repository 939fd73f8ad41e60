// File: random_hex.h
// Unguessable identifiers from the OS's entropy (std::random_device):
// agent process ids, log-server tokens, server identities in the leader
// key, idempotency keys. Not for anything simulated (that is core/rng.h).
// Thread-safe.
#pragma once

#include <string>

namespace stargate {

// `words` random 32-bit words as 8*words lower-case hex digits.
std::string RandomHex(int words);

}  // namespace stargate
