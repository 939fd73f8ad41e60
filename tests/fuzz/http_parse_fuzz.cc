// libFuzzer target for the HTTP/1.1 request-head parser (http_parse.h):
// any bytes give incomplete, done or an error status it knows, never a
// crash or sanitizer report; a done head fits in the input, its body
// length is within the limit, and parsing the same bytes again agrees.
// Run by scripts/fuzz.sh.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "control/net/http_parse.h"

namespace {
void Check(bool ok) {
  if (!ok) std::abort();
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace stargate::control;
  const std::string_view in(reinterpret_cast<const char*>(data), size);
  HttpLimits limits;
  limits.max_target = 256;
  limits.max_head = 2048;
  limits.max_body = 4096;
  const HeadParse p = ParseRequestHead(in, limits);
  switch (p.state) {
    case HeadParse::State::kIncomplete:
      Check(in.size() <= limits.max_head + limits.max_target + 64);
      break;
    case HeadParse::State::kDone:
      Check(p.head_bytes <= in.size());
      Check(p.content_length <= limits.max_body);
      Check(!p.request.method.empty() && !p.request.path.empty() && p.request.path.front() == '/');
      break;
    case HeadParse::State::kError:
      for (int s : {400, 411, 413, 414, 431, 505}) {
        if (p.error_status == s) goto known;
      }
      std::abort();
    known:
      Check(!p.error_message.empty());
      break;
  }
  const HeadParse again = ParseRequestHead(in, limits);
  Check(again.state == p.state && again.head_bytes == p.head_bytes && again.error_status == p.error_status);
  (void)SerializeResponse(HttpErrorResponse(p.error_status == 0 ? 200 : p.error_status, "x", in.substr(0, 64)), true);
  return 0;
}
