// The request-head parser: what it accepts, what it refuses and with which
// status, and that an incomplete head waits for more bytes.
#include "control/net/http_parse.h"

#include <gtest/gtest.h>

namespace stargate::control {
namespace {

HeadParse Parse(std::string_view bytes) { return ParseRequestHead(bytes, HttpLimits{}); }

TEST(HttpParse, ReadsARequestHead) {
  const HeadParse p = Parse(
      "\r\nPOST /v1/jobs%2Fx?state=running&name=a+b%21&flag HTTP/1.1\r\nHost: h\r\n"
      "Content-Length: 12\r\nX-Thing:  v1 \r\nx-thing: v2\r\n\r\nbody follows");
  ASSERT_EQ(p.state, HeadParse::State::kDone) << p.error_message;
  EXPECT_EQ(p.request.method, "POST");
  EXPECT_EQ(p.request.path, "/v1/jobs/x");
  EXPECT_EQ(p.request.query.at("state"), "running");
  EXPECT_EQ(p.request.query.at("name"), "a b!");
  EXPECT_EQ(p.request.query.at("flag"), "");
  EXPECT_EQ(p.request.headers.at("x-thing"), "v1, v2");
  EXPECT_EQ(p.content_length, 12u);
  EXPECT_TRUE(p.keep_alive);
  EXPECT_EQ(p.head_bytes,
            std::string_view("\r\nPOST /v1/jobs%2Fx?state=running&name=a+b%21&flag HTTP/1.1\r\nHost: h\r\n"
                             "Content-Length: 12\r\nX-Thing:  v1 \r\nx-thing: v2\r\n\r\n")
                .size());
}

TEST(HttpParse, WaitsForTheBlankLine) {
  EXPECT_EQ(Parse("GET / HTTP/1.1\r\nHost: h\r\n").state, HeadParse::State::kIncomplete);
  EXPECT_EQ(Parse("GET / HT").state, HeadParse::State::kIncomplete);
  EXPECT_EQ(Parse("").state, HeadParse::State::kIncomplete);
}

TEST(HttpParse, KeepAliveByVersionAndConnection) {
  EXPECT_FALSE(Parse("GET / HTTP/1.1\r\nConnection: close\r\n\r\n").keep_alive);
  EXPECT_FALSE(Parse("GET / HTTP/1.0\r\n\r\n").keep_alive);
  EXPECT_TRUE(Parse("GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n").keep_alive);
  EXPECT_TRUE(Parse("POST / HTTP/1.1\r\nExpect: 100-continue\r\nContent-Length: 1\r\n\r\n").expect_continue);
}

TEST(HttpParse, RefusesWhatCouldSmuggleOrStall) {
  struct Case {
    std::string bytes;
    int status;
  };
  const Case cases[] = {
      {"GET / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n", 411},
      {"GET / HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n", 400},
      {"GET / HTTP/1.1\r\nContent-Length: -1\r\n\r\n", 400},
      {"GET / HTTP/1.1\r\nContent-Length: 1 \r\n\r\n", 200},  // OWS is trimmed: accepted
      {"GET / HTTP/1.1\r\nHost : h\r\n\r\n", 400},
      {"GET / HTTP/1.1\r\nHost: h\r\n folded\r\n\r\n", 400},
      {"GET / HTTP/1.1\nHost: h\n\n", 400},
      {"GET /a b HTTP/1.1\r\n\r\n", 400},
      {"GET http://x/ HTTP/1.1\r\n\r\n", 400},
      {"GET / HTTP/2.0\r\n\r\n", 505},
      {"G(T / HTTP/1.1\r\n\r\n", 400},
      {"GET / HTTP/1.1\r\nX: a\x01b\r\n\r\n", 400},
      {"POST / HTTP/1.1\r\nContent-Length: 3000000\r\n\r\n", 413},
      {"GET /" + std::string(9000, 'a') + " HTTP/1.1\r\n\r\n", 414},
      {"GET /" + std::string(9000, 'a'), 414},
      {"GET / HTTP/1.1\r\nX: " + std::string(70000, 'a'), 431},
  };
  for (const Case& c : cases) {
    const HeadParse p = Parse(c.bytes);
    if (c.status == 200) {
      EXPECT_EQ(p.state, HeadParse::State::kDone) << c.bytes.substr(0, 60);
    } else {
      EXPECT_EQ(p.state, HeadParse::State::kError) << c.bytes.substr(0, 60);
      EXPECT_EQ(p.error_status, c.status) << c.bytes.substr(0, 60) << ": " << p.error_message;
    }
  }
}

TEST(HttpParse, SerializesWithoutInjectableHeaders) {
  HttpResponse r(201, R"({"a":1})");
  r.headers.emplace("X-Ok", "1");
  r.headers.emplace("X-Bad", std::string("1\r\nSet-Cookie: x"));
  const std::string bytes = SerializeResponse(r, false);
  EXPECT_EQ(bytes,
            "HTTP/1.1 201 Created\r\nContent-Type: application/json\r\nX-Ok: 1\r\nContent-Length: 7\r\n"
            "Connection: close\r\n\r\n{\"a\":1}");
}

TEST(HttpParse, PercentDecodeLeavesBadEscapes) {
  EXPECT_EQ(PercentDecode("a%20b%zz%4", false), "a b%zz%4");
  EXPECT_EQ(PercentDecode("a+b", true), "a b");
  EXPECT_EQ(PercentDecode("a+b", false), "a+b");
}

}  // namespace
}  // namespace stargate::control
