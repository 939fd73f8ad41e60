// File: http_parse.h
// HTTP/1.1 framing as pure functions, for HttpServer's event loop (and a
// fuzz target): the head of one request out of the bytes a connection has
// sent so far, and a response as bytes. Strict where leniency lets a
// client smuggle or stall (RFC 9112): no bare LF line ends, no folded
// headers, no spaces before a header's colon, exactly one Content-Length,
// no Transfer-Encoding (411: the API's clients always know the length).
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "control/net/http_types.h"

namespace stargate::control {

struct HttpLimits {
  size_t max_target = 8 << 10;  // request target (path and query): 414 past it
  size_t max_head = 64 << 10;   // request line and headers: 431 past it
  size_t max_body = 2 << 20;    // Content-Length: 413 past it
};

struct HeadParse {
  enum class State { kIncomplete, kDone, kError };
  State state = State::kIncomplete;
  // kDone: the request without its body; kError: what to answer.
  HttpRequest request;
  size_t head_bytes = 0;      // the head's length, with its blank line
  size_t content_length = 0;  // body bytes that follow the head
  bool keep_alive = true;     // HTTP/1.1 unless "Connection: close"; 1.0 only with keep-alive
  bool expect_continue = false;
  int error_status = 0;  // 400, 411, 413, 414, 431, 501 or 505
  std::string error_message;
};

// Parses the request head at the start of `buf` (empty lines before it
// are skipped and counted in head_bytes). Incomplete until the blank line
// arrives, unless what arrived already breaks a limit or the syntax.
HeadParse ParseRequestHead(std::string_view buf, const HttpLimits& limits);

// %XX escapes decoded (and '+' as a space in a query); a bad escape stays
// as it was.
std::string PercentDecode(std::string_view s, bool plus_is_space);

// The whole response: status line, Content-Type, Content-Length,
// Connection and `resp.headers` (any with CR or LF in a name or value is
// dropped), then the body.
std::string SerializeResponse(const HttpResponse& resp, bool keep_alive);

// {"error": {"code", "message"}} with `status`, for errors raised before
// a handler runs (and those it never sees: 408, 413, 414, 431, 503).
HttpResponse HttpErrorResponse(int status, std::string_view code, std::string_view message);

}  // namespace stargate::control
