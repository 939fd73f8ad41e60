// File: http_types.h
// An HTTP exchange as plain values: what a handler on HttpServer (the
// REST API) sees of a request and answers, without cpp-httplib's types,
// so handlers are tested without sockets.
#pragma once

#include <map>
#include <string>
#include <utility>

namespace stargate::control {

struct HttpRequest {
  std::string method;  // "GET", "POST", ...
  std::string path;    // without the query string
  std::map<std::string, std::string> query;
  std::map<std::string, std::string> headers;  // names lower-cased
  std::string body;
};

struct HttpResponse {
  HttpResponse() = default;
  HttpResponse(int s, std::string b) : status(s), body(std::move(b)) {}
  int status = 200;
  std::string body;  // JSON, unless content_type says otherwise
  std::string content_type = "application/json";
  // Extra response headers (Location, X-Next-Offset).
  std::map<std::string, std::string> headers;
  // Set: the answer is what GET on this URL (with these headers) returns,
  // fetched by HttpServer after the handler has returned (a task log from
  // its node's log server, for a caller the API has authorised), so the
  // handler holds nothing while a slow node answers.
  std::string fetch_url;
  std::map<std::string, std::string> fetch_headers;
};

}  // namespace stargate::control
