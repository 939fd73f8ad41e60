// File: digest.h
// SHA-256 for secrets the server keeps only as hashes (join tokens, node
// credentials), and a comparison whose time does not depend on where two
// strings first differ.
#pragma once

#include <string>
#include <string_view>

namespace stargate::control {

// Lower-case hex of SHA-256(`data`).
std::string Sha256Hex(std::string_view data);

// a == b, in time that depends only on their lengths.
bool ConstantTimeEquals(std::string_view a, std::string_view b);

}  // namespace stargate::control
