#include "control/net/http_parse.h"

#include <algorithm>
#include <cctype>
#include <charconv>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

namespace stargate::control {
namespace {

HeadParse Fail(int status, std::string message) {
  HeadParse p;
  p.state = HeadParse::State::kError;
  p.error_status = status;
  p.error_message = std::move(message);
  return p;
}

// RFC 9110 token characters (methods, header names).
bool IsTokenChar(unsigned char c) {
  if (std::isalnum(c)) return true;
  return std::string_view("!#$%&'*+-.^_`|~").find(static_cast<char>(c)) != std::string_view::npos;
}

bool IsToken(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return IsTokenChar(c); });
}

std::string_view TrimOws(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

std::string Lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) { return std::tolower(c); });
  return out;
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::string_view ReasonPhrase(int status) {
  switch (status) {
    case 100:
      return "Continue";
    case 200:
      return "OK";
    case 201:
      return "Created";
    case 204:
      return "No Content";
    case 301:
      return "Moved Permanently";
    case 302:
      return "Found";
    case 304:
      return "Not Modified";
    case 400:
      return "Bad Request";
    case 401:
      return "Unauthorized";
    case 403:
      return "Forbidden";
    case 404:
      return "Not Found";
    case 405:
      return "Method Not Allowed";
    case 408:
      return "Request Timeout";
    case 409:
      return "Conflict";
    case 411:
      return "Length Required";
    case 413:
      return "Content Too Large";
    case 414:
      return "URI Too Long";
    case 429:
      return "Too Many Requests";
    case 431:
      return "Request Header Fields Too Large";
    case 500:
      return "Internal Server Error";
    case 501:
      return "Not Implemented";
    case 502:
      return "Bad Gateway";
    case 503:
      return "Service Unavailable";
    case 505:
      return "HTTP Version Not Supported";
    default:
      return "Status";
  }
}

// "a=1&b=x%20y" into `out` (a repeated name keeps its first value).
void ParseQuery(std::string_view q, std::map<std::string, std::string>& out) {
  while (!q.empty()) {
    const size_t amp = q.find('&');
    const std::string_view pair = q.substr(0, amp);
    q = amp == std::string_view::npos ? std::string_view() : q.substr(amp + 1);
    if (pair.empty()) continue;
    const size_t eq = pair.find('=');
    const std::string k = PercentDecode(pair.substr(0, eq), true);
    const std::string v = eq == std::string_view::npos ? "" : PercentDecode(pair.substr(eq + 1), true);
    out.emplace(k, v);
  }
}

}  // namespace

std::string PercentDecode(std::string_view s, bool plus_is_space) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size()) {
      const int hi = HexValue(s[i + 1]), lo = HexValue(s[i + 2]);
      if (hi >= 0 && lo >= 0) {
        out.push_back(static_cast<char>(hi * 16 + lo));
        i += 2;
        continue;
      }
    }
    out.push_back(plus_is_space && s[i] == '+' ? ' ' : s[i]);
  }
  return out;
}

HeadParse ParseRequestHead(std::string_view buf, const HttpLimits& limits) {
  size_t start = 0;  // RFC 9112 2.2: ignore empty lines before the request line
  while (buf.substr(start).starts_with("\r\n")) start += 2;
  const std::string_view rest = buf.substr(start);
  const size_t line_end = rest.find("\r\n");
  if (line_end == std::string_view::npos) {
    if (rest.size() > limits.max_target + 64) return Fail(414, "the request target is too long");
    if (rest.find('\n') != std::string_view::npos) return Fail(400, "lines must end with CRLF");
    return HeadParse{};
  }
  const size_t head_end = rest.find("\r\n\r\n");
  if (head_end == std::string_view::npos) {
    if (rest.size() > limits.max_head) return Fail(431, "the request's headers are too large");
  } else if (head_end + 4 > limits.max_head) {
    return Fail(431, "the request's headers are too large");
  }

  // Request line: METHOD SP target SP HTTP/1.x
  const std::string_view line = rest.substr(0, line_end);
  const size_t sp1 = line.find(' ');
  const size_t sp2 = sp1 == std::string_view::npos ? sp1 : line.find(' ', sp1 + 1);
  if (sp2 == std::string_view::npos || line.find(' ', sp2 + 1) != std::string_view::npos) {
    return Fail(400, "the request line is not METHOD TARGET VERSION");
  }
  const std::string_view method = line.substr(0, sp1), target = line.substr(sp1 + 1, sp2 - sp1 - 1),
                         version = line.substr(sp2 + 1);
  if (!IsToken(method)) return Fail(400, "the request method is not a token");
  if (target.size() > limits.max_target) return Fail(414, "the request target is too long");
  if (version != "HTTP/1.1" && version != "HTTP/1.0") {
    return version.starts_with("HTTP/") ? Fail(505, "only HTTP/1.0 and HTTP/1.1 are served")
                                        : Fail(400, "the request line has no HTTP version");
  }
  if (target.empty() || target.front() != '/') return Fail(400, "the request target must be a path");
  for (unsigned char c : target) {
    if (c <= 0x20 || c == 0x7f) return Fail(400, "the request target has a control character");
  }
  if (head_end == std::string_view::npos) return HeadParse{};

  HeadParse p;
  p.request.method = std::string(method);
  const size_t qmark = target.find('?');
  p.request.path = PercentDecode(target.substr(0, qmark), false);
  if (qmark != std::string_view::npos) ParseQuery(target.substr(qmark + 1), p.request.query);
  p.keep_alive = version == "HTTP/1.1";

  bool have_length = false;
  size_t pos = line_end + 2;
  while (pos < head_end + 2) {
    const size_t eol = rest.find("\r\n", pos);
    const std::string_view h = rest.substr(pos, eol - pos);
    pos = eol + 2;
    if (h.front() == ' ' || h.front() == '\t') return Fail(400, "folded header lines are not accepted");
    const size_t colon = h.find(':');
    if (colon == std::string_view::npos || !IsToken(h.substr(0, colon))) {
      return Fail(400, "a header line is not NAME: VALUE");
    }
    const std::string name = Lower(h.substr(0, colon));
    const std::string_view value = TrimOws(h.substr(colon + 1));
    for (unsigned char c : value) {
      if ((c < 0x20 && c != '\t') || c == 0x7f)
        return Fail(400, fmt::format("header {} has a control character", name));
    }
    if (name == "content-length") {
      size_t n = 0;
      const auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), n);
      if (value.empty() || ec != std::errc() || end != value.data() + value.size()) {
        return Fail(400, "Content-Length is not a number");
      }
      if (have_length && n != p.content_length) return Fail(400, "two different Content-Length headers");
      have_length = true;
      p.content_length = n;
    } else if (name == "transfer-encoding") {
      return Fail(411, "send the body with a Content-Length, not a Transfer-Encoding");
    } else if (name == "connection") {
      const std::string v = Lower(value);
      if (v.find("close") != std::string::npos) p.keep_alive = false;
      if (v.find("keep-alive") != std::string::npos && version == "HTTP/1.0") p.keep_alive = true;
    } else if (name == "expect") {
      if (Lower(value) != "100-continue") return Fail(400, "only Expect: 100-continue is understood");
      p.expect_continue = version == "HTTP/1.1";
    }
    auto [it, fresh] = p.request.headers.emplace(name, std::string(value));
    if (!fresh) it->second += ", " + std::string(value);
  }
  if (p.content_length > limits.max_body) {
    return Fail(413, fmt::format("the body is {} bytes; the limit is {}", p.content_length, limits.max_body));
  }
  p.head_bytes = start + head_end + 4;
  p.state = HeadParse::State::kDone;
  return p;
}

std::string SerializeResponse(const HttpResponse& resp, bool keep_alive) {
  std::string out = fmt::format("HTTP/1.1 {} {}\r\n", resp.status, ReasonPhrase(resp.status));
  auto clean = [](std::string_view s) { return s.find_first_of("\r\n") == std::string_view::npos; };
  if (clean(resp.content_type)) out += fmt::format("Content-Type: {}\r\n", resp.content_type);
  for (const auto& [k, v] : resp.headers) {
    if (clean(k) && clean(v) && !k.empty()) out += fmt::format("{}: {}\r\n", k, v);
  }
  out += fmt::format("Content-Length: {}\r\nConnection: {}\r\n\r\n", resp.body.size(),
                     keep_alive ? "keep-alive" : "close");
  out += resp.body;
  return out;
}

HttpResponse HttpErrorResponse(int status, std::string_view code, std::string_view message) {
  return HttpResponse{status, nlohmann::json{{"error", {{"code", code}, {"message", message}}}}.dump(
                                  -1, ' ', false, nlohmann::json::error_handler_t::replace)};
}

}  // namespace stargate::control
