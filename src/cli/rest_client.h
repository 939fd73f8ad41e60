// File: rest_client.h
// The CLI's client of a Stargate server's REST API: HTTP/1.1 on one TCP
// connection, kept open across the calls of one command (`job wait`
// polls, `job show 12_3` looks up then fetches). Plain HTTP, as `stargate
// server --listen` serves it. Small on purpose: the `stargate` front
// binary (front/main.cc) links nothing heavier, so `stargate job submit`
// starts in a few milliseconds (bench/RESULTS.md).
//
// Sends "Authorization: Bearer TOKEN" (the token given, else
// $STARGATE_TOKEN) when the caller gave no Authorization header. An
// answer that never came says so in one line, with the URL and a hint
// (`Response::unreachable`). Not thread-safe.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace stargate::cli {

class RestClient {
 public:
  // `base_url`: http://HOST:PORT (a trailing '/' is ignored).
  explicit RestClient(std::string base_url, std::string token = "");
  ~RestClient();
  RestClient(const RestClient&) = delete;
  RestClient& operator=(const RestClient&) = delete;

  struct Response {
    int status = 0;
    std::string body;
    // Set when no answer came (cannot connect, timed out, a bad URL);
    // status and body are then empty.
    std::string error;
    bool unreachable = false;  // no connection could be made (the error has the URL and a hint)
    bool ok() const { return error.empty(); }
  };
  // GET or POST `path` (with its query). A connection the server closed
  // while idle is reopened once.
  Response Call(const std::string& method, const std::string& path, const std::string& body = "",
                const std::vector<std::pair<std::string, std::string>>& headers = {});

 private:
  bool Connect(std::string* error);
  void Close();
  // One exchange on the open connection; `*closed_before_answer` when the
  // server closed it before answering a byte (an idle keep-alive timeout).
  Response Exchange(const std::string& request, bool* closed_before_answer);

  std::string base_url_;
  std::string token_;
  std::string host_;
  std::string port_;
  std::string url_error_;  // set when base_url_ is not http://HOST:PORT
  int fd_ = -1;
  std::string buffered_;  // read past the last answer (none, with keep-alive)
};

// `text` as a query value (percent-encoded but for unreserved characters).
std::string UrlEncode(std::string_view text);

// Says on stderr why `r` is no success (the server's JSON error message,
// or why no answer came) and returns the exit code (exit_codes.h).
int ReportFailure(const RestClient::Response& r);

}  // namespace stargate::cli
