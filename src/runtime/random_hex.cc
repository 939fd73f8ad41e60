#include "runtime/random_hex.h"

#include <random>

#include <fmt/format.h>

namespace stargate {

std::string RandomHex(int words) {
  std::random_device rd;
  std::string out;
  for (int i = 0; i < words; ++i) out += fmt::format("{:08x}", rd());
  return out;
}

}  // namespace stargate
