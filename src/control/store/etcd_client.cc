#include "control/store/etcd_client.h"

#include <httplib.h>

#include <absl/strings/escaping.h>
#include <fmt/format.h>

namespace stargate::control {

using nlohmann::json;

StatusOr<EtcdClient> EtcdClient::Make(const std::vector<std::string>& endpoints, Duration retry_for, Clock* clock) {
  EtcdClient c;
  for (const std::string& e : endpoints) {
    const size_t colon = e.rfind(':');
    int port = 0;
    if (colon != std::string::npos && colon > 0) {
      try {
        port = std::stoi(e.substr(colon + 1));
      } catch (...) {
        port = 0;
      }
    }
    if (port <= 0 || port > 65535) {
      return absl::InvalidArgumentError(fmt::format("etcd endpoint '{}': expected HOST:PORT", e));
    }
    c.endpoints_.emplace_back(e.substr(0, colon), port);
  }
  if (c.endpoints_.empty()) return absl::InvalidArgumentError("no etcd endpoint given");
  c.retry_for_ = retry_for;
  c.clock_ = clock;
  return c;
}

StatusOr<json> EtcdClient::Call(const std::string& path, const json& body) {
  const Time deadline = clock_->Now() + retry_for_;
  std::string last = "no endpoint";
  for (int attempt = 0;; ++attempt) {
    const auto& [host, port] = endpoints_[current_];
    httplib::Client cli(host, port);
    cli.set_connection_timeout(1, 0);
    cli.set_read_timeout(5, 0);
    auto res = cli.Post(path, body.dump(), "application/json");
    if (res && res->status == 200) {
      json j = json::parse(res->body, nullptr, false);
      if (!j.is_discarded()) return j;
      last = fmt::format("{}:{}: unreadable reply", host, port);
    } else {
      last = res ? fmt::format("{}:{}: HTTP {}: {}", host, port, res->status, res->body.substr(0, 200))
                 : fmt::format("{}:{}: {}", host, port, httplib::to_string(res.error()));
      // A request etcd refuses will not do better at another member.
      if (res && res->status >= 400 && res->status < 500) return absl::InternalError("etcd " + last);
    }
    current_ = (current_ + 1) % endpoints_.size();
    if (clock_->Now() >= deadline) break;
    if ((attempt + 1) % static_cast<int>(endpoints_.size()) == 0) {
      clock_->SleepFor(Duration::Millis(100));  // every member tried: an election, or down
    }
  }
  return absl::UnavailableError(fmt::format("etcd unreachable for {:.0f} s; last: {}", retry_for_.seconds(), last));
}

StatusOr<std::vector<json>> EtcdClient::Watch(const std::string& key, const std::string& range_end, int64_t from,
                                              Duration wait) {
  json create = {{"key", Base64(key)}, {"start_revision", std::to_string(from)}};
  if (!range_end.empty()) create["range_end"] = Base64(range_end);
  const auto& [host, port] = endpoints_[current_];
  httplib::Client cli(host, port);
  cli.set_connection_timeout(1, 0);
  const int64_t wait_us = std::max<int64_t>(1000, wait.nanos() / 1000);
  cli.set_read_timeout(wait_us / 1'000'000, wait_us % 1'000'000);
  // The gateway streams one JSON object per message: first "created",
  // then batches of events. Stop at the first batch.
  std::string buffer;
  std::vector<json> events;
  bool created = false;
  httplib::Request req;
  req.method = "POST";
  req.path = "/v3/watch";
  req.body = json{{"create_request", create}}.dump();
  req.set_header("Content-Type", "application/json");
  req.content_receiver = [&](const char* data, size_t n, uint64_t, uint64_t) {
    buffer.append(data, n);
    for (size_t end; (end = buffer.find('\n')) != std::string::npos || !buffer.empty();) {
      const std::string message = end == std::string::npos ? buffer : buffer.substr(0, end);
      const json j = json::parse(message, nullptr, false);
      if (j.is_discarded()) {
        if (end == std::string::npos) break;  // a message split across reads
      } else if (j.contains("result")) {
        created = true;
        if (auto e = j["result"].find("events"); e != j["result"].end()) {
          for (const json& ev : *e) {
            json event = ev;
            if (!event.contains("type")) event["type"] = "PUT";  // the gateway omits the default (PUT = 0)
            events.push_back(std::move(event));
          }
        }
      }
      buffer.erase(0, end == std::string::npos ? buffer.size() : end + 1);
      if (!events.empty()) return false;  // enough: close the stream
    }
    return true;
  };
  httplib::Response res;
  httplib::Error error = httplib::Error::Success;
  cli.send(req, res, error);
  if (!events.empty()) return events;
  if (!created && error != httplib::Error::Read) {
    current_ = (current_ + 1) % endpoints_.size();  // the next call tries another member
    return absl::UnavailableError(fmt::format("etcd watch at {}:{}: {}", host, port, httplib::to_string(error)));
  }
  return events;  // nothing changed within `wait` (the read timed out)
}

std::string EtcdClient::Base64(std::string_view bytes) {
  return absl::Base64Escape(absl::string_view(bytes.data(), bytes.size()));
}

std::string EtcdClient::Unbase64(const std::string& text) {
  std::string out;
  absl::Base64Unescape(text, &out);
  return out;
}

int64_t EtcdClient::Int(const json& j, const char* field) {
  auto it = j.find(field);
  if (it == j.end()) return 0;
  if (it->is_string()) return std::stoll(it->get<std::string>());
  return it->is_number() ? it->get<int64_t>() : 0;
}

}  // namespace stargate::control
