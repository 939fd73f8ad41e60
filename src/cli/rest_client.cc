#include "cli/rest_client.h"

#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <iostream>

#include <nlohmann/json.hpp>

#include "cli/exit_codes.h"

namespace stargate::cli {
namespace {

constexpr int kConnectTimeoutMs = 5'000;
constexpr int kReadTimeoutMs = 30'000;
constexpr size_t kMaxAnswer = size_t{256} << 20;

std::string Lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

// Waits for `events` on `fd` at most `ms`; false on timeout or error.
bool Await(int fd, short events, int ms) {
  pollfd p{fd, events, 0};
  int rc;
  do {
    rc = poll(&p, 1, ms);
  } while (rc < 0 && errno == EINTR);
  return rc > 0;
}

}  // namespace

RestClient::RestClient(std::string base_url, std::string token)
    : base_url_(std::move(base_url)), token_(std::move(token)) {
  std::string rest = base_url_;
  constexpr std::string_view kScheme = "http://";
  if (rest.rfind(kScheme, 0) == 0) {
    rest = rest.substr(kScheme.size());
  } else if (rest.find("://") != std::string::npos) {
    url_error_ = "the server URL " + base_url_ + " is not http://HOST:PORT";
    return;
  }
  while (!rest.empty() && rest.back() == '/') rest.pop_back();
  const size_t colon = rest.rfind(':');
  if (rest.empty() || rest.find('/') != std::string::npos) {
    url_error_ = "the server URL " + base_url_ + " is not http://HOST:PORT";
    return;
  }
  host_ = colon == std::string::npos ? rest : rest.substr(0, colon);
  port_ = colon == std::string::npos ? "80" : rest.substr(colon + 1);
  if (host_.size() > 2 && host_.front() == '[' && host_.back() == ']') host_ = host_.substr(1, host_.size() - 2);
}

RestClient::~RestClient() { Close(); }

void RestClient::Close() {
  if (fd_ >= 0) close(fd_);
  fd_ = -1;
  buffered_.clear();
}

bool RestClient::Connect(std::string* error) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* found = nullptr;
  if (const int rc = getaddrinfo(host_.c_str(), port_.c_str(), &hints, &found); rc != 0) {
    *error = "cannot reach the server at " + base_url_ + ": " + gai_strerror(rc);
    return false;
  }
  std::string why = "no address";
  for (addrinfo* a = found; a != nullptr; a = a->ai_next) {
    const int fd = socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK, a->ai_protocol);
    if (fd < 0) continue;
    int rc = connect(fd, a->ai_addr, a->ai_addrlen);
    if (rc != 0 && errno == EINPROGRESS) {
      int err = ETIMEDOUT;
      socklen_t len = sizeof err;
      if (Await(fd, POLLOUT, kConnectTimeoutMs)) getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len);
      rc = err == 0 ? 0 : -1;
      errno = err;
    }
    if (rc == 0) {
      const int one = 1;
      setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);  // a request is one write: send it now
      fd_ = fd;
      freeaddrinfo(found);
      return true;
    }
    why = std::strerror(errno);
    close(fd);
  }
  freeaddrinfo(found);
  *error = "cannot reach the server at " + base_url_ + ": " + why;
  return false;
}

RestClient::Response RestClient::Call(const std::string& method, const std::string& path, const std::string& body,
                                      const std::vector<std::pair<std::string, std::string>>& headers) {
  Response out;
  if (!url_error_.empty()) {
    out.error = url_error_;
    return out;
  }
  if (method != "GET" && method != "POST") {
    out.error = "unsupported method " + method;
    return out;
  }
  std::string request = method + " " + path + " HTTP/1.1\r\nHost: " + host_ + ":" + port_ + "\r\n";
  bool authorization = false;
  for (const auto& [k, v] : headers) {
    request += k + ": " + v + "\r\n";
    authorization = authorization || Lower(k) == "authorization";
  }
  // The CLI's credentials: the token given (a context's), else
  // $STARGATE_TOKEN, unless the caller gave its own.
  const char* env = std::getenv("STARGATE_TOKEN");
  const std::string token = !token_.empty() ? token_ : env != nullptr ? env : "";
  if (!token.empty() && !authorization) request += "Authorization: Bearer " + token + "\r\n";
  if (method == "POST") request += "Content-Type: application/yaml\r\n";
  request += "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
  for (int attempt = 0; attempt < 2; ++attempt) {
    const bool reused = fd_ >= 0;
    if (!reused && !Connect(&out.error)) {
      out.unreachable = true;
      out.error +=
          " (is a server running there? `stargate up` starts one; --server, $STARGATE_SERVER or "
          "`stargate config use-context` name another)";
      return out;
    }
    bool closed_before_answer = false;
    out = Exchange(request, &closed_before_answer);
    if (out.ok() || !reused || !closed_before_answer) return out;
    Close();  // the server closed the idle connection: once more on a new one
  }
  return out;
}

RestClient::Response RestClient::Exchange(const std::string& request, bool* closed_before_answer) {
  Response out;
  auto fail = [&](const std::string& why) {
    Close();
    out = Response{};
    out.error = "the server at " + base_url_ + " " + why;
    return out;
  };
  for (size_t sent = 0; sent < request.size();) {
    const ssize_t n = send(fd_, request.data() + sent, request.size() - sent, MSG_NOSIGNAL);
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      if (!Await(fd_, POLLOUT, kReadTimeoutMs)) return fail("did not take the request in time");
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      *closed_before_answer = true;
      return fail(std::string("closed the connection: ") + std::strerror(errno));
    }
    sent += static_cast<size_t>(n);
  }
  std::string in = std::move(buffered_);
  buffered_.clear();
  // Reads more into `in`; false at the end of the stream or on an error.
  auto more = [&]() {
    char buf[64 << 10];
    for (;;) {
      if (!Await(fd_, POLLIN, kReadTimeoutMs)) return false;
      const ssize_t n = recv(fd_, buf, sizeof buf, 0);
      if (n < 0 && (errno == EINTR || errno == EAGAIN)) continue;
      if (n <= 0) return false;
      in.append(buf, static_cast<size_t>(n));
      return in.size() <= kMaxAnswer;
    }
  };
  size_t head_end;
  while ((head_end = in.find("\r\n\r\n")) == std::string::npos) {
    const bool was_empty = in.empty();
    if (!more()) {
      *closed_before_answer = was_empty && in.empty();
      return fail("gave no answer");
    }
  }
  // "HTTP/1.1 200 OK"
  const std::string head = in.substr(0, head_end);
  const size_t sp = head.find(' ');
  if (head.rfind("HTTP/1.", 0) != 0 || sp == std::string::npos) return fail("answered something that is not HTTP");
  out.status = std::atoi(head.c_str() + sp + 1);
  long long length = -1;
  bool chunked = false, close_after = head.rfind("HTTP/1.0", 0) == 0;
  for (size_t at = head.find("\r\n"); at != std::string::npos;) {
    const size_t next = head.find("\r\n", at + 2);
    const std::string line = head.substr(at + 2, next == std::string::npos ? std::string::npos : next - at - 2);
    at = next;
    const size_t colon = line.find(':');
    if (colon == std::string::npos) continue;
    const std::string name = Lower(line.substr(0, colon));
    std::string value = line.substr(colon + 1);
    while (!value.empty() && value.front() == ' ') value.erase(0, 1);
    if (name == "content-length") length = std::atoll(value.c_str());
    if (name == "transfer-encoding" && Lower(value).find("chunked") != std::string::npos) chunked = true;
    if (name == "connection") close_after = Lower(value) == "close";
  }
  in.erase(0, head_end + 4);
  if (chunked) {
    for (;;) {
      size_t eol;
      while ((eol = in.find("\r\n")) == std::string::npos) {
        if (!more()) return fail("ended its answer early");
      }
      const size_t size = std::strtoull(in.c_str(), nullptr, 16);
      while (in.size() < eol + 2 + size + 2) {
        if (!more()) return fail("ended its answer early");
      }
      out.body.append(in, eol + 2, size);
      in.erase(0, eol + 2 + size + 2);
      if (size == 0) break;  // (no trailers from a Stargate server)
    }
  } else if (length >= 0) {
    while (in.size() < static_cast<size_t>(length)) {
      if (!more()) return fail("ended its answer early");
    }
    out.body = in.substr(0, static_cast<size_t>(length));
    in.erase(0, static_cast<size_t>(length));
  } else {  // to the end of the stream
    while (more()) {
    }
    out.body = std::move(in);
    in.clear();
    close_after = true;
  }
  if (close_after) {
    Close();
  } else {
    buffered_ = std::move(in);
  }
  return out;
}

std::string UrlEncode(std::string_view text) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (const unsigned char ch : text) {
    if (std::isalnum(ch) || ch == '-' || ch == '_' || ch == '.' || ch == '~') {
      out += static_cast<char>(ch);
    } else {
      out += '%';
      out += kHex[ch >> 4];
      out += kHex[ch & 0xf];
    }
  }
  return out;
}

int ReportFailure(const RestClient::Response& r) {
  if (!r.ok()) {
    std::cerr << "error: " << r.error << "\n";
    return r.unreachable ? exit_code::kUnreachable : exit_code::kError;
  }
  const nlohmann::json j = nlohmann::json::parse(r.body, nullptr, false);
  const std::string message = !j.is_discarded() && j.contains("error") ? j["error"].value("message", r.body) : r.body;
  std::cerr << "error: " << message << " (HTTP " << r.status << ")\n";
  return exit_code::ForHttpStatus(r.status);
}

}  // namespace stargate::cli
