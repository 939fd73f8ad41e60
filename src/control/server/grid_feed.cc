#include "control/server/grid_feed.h"

#include <httplib.h>

#include <algorithm>
#include <cmath>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "control/server/control_plane.h"
#include "core/text_fields.h"

namespace stargate::control {
namespace {

constexpr size_t kMaxAnswerBytes = 4 << 20;
constexpr size_t kMaxPoints = 200000;

// "http://host[:port]/path?query" -> ("http://host[:port]", "/path?query").
bool SplitUrl(const std::string& url, std::string* origin, std::string* path) {
  constexpr std::string_view kScheme = "http://";
  if (!url.starts_with(kScheme)) return false;
  const size_t slash = url.find('/', kScheme.size());
  *origin = url.substr(0, slash);
  *path = slash == std::string::npos ? "/" : url.substr(slash);
  return origin->size() > kScheme.size();
}

// The whole answer within kFetchDeadline on `clock` (a slow source that
// trickles bytes does not hold the poller), at most kMaxAnswerBytes.
constexpr Duration kFetchDeadline = Duration::Seconds(15);

StatusOr<std::string> Fetch(const std::string& url, const Clock& clock) {
  std::string origin, path;
  if (!SplitUrl(url, &origin, &path)) return absl::InvalidArgumentError("not an http:// URL");
  httplib::Client client(origin);
  client.set_connection_timeout(3, 0);
  client.set_read_timeout(5, 0);
  client.set_write_timeout(5, 0);
  std::string body;
  bool too_big = false, too_slow = false;
  const Time deadline = clock.Now() + kFetchDeadline;
  auto res = client.Get(path, [&](const char* data, size_t n) {
    if (body.size() + n > kMaxAnswerBytes) {
      too_big = true;
      return false;
    }
    if (clock.Now() > deadline) {
      too_slow = true;
      return false;
    }
    body.append(data, n);
    return true;
  });
  if (too_big) return absl::ResourceExhaustedError(fmt::format("answer over {} bytes", kMaxAnswerBytes));
  if (too_slow) return absl::DeadlineExceededError(fmt::format("no whole answer in {} s", kFetchDeadline.seconds()));
  if (!res) return absl::UnavailableError(fmt::format("no answer ({})", httplib::to_string(res.error())));
  if (res->status != 200) return absl::UnavailableError(fmt::format("HTTP {}", res->status));
  return body;
}

StatusOr<Time> ReadAt(const nlohmann::json& at, const std::string& where) {
  // A number is Unix seconds; a string a date-time (not seconds in quotes).
  std::optional<int64_t> ns;
  if (at.is_number()) {
    ns = ParseTimestampNanos(at.dump());
  } else if (at.is_string()) {
    const std::optional<int64_t> secs = ParseDateTime(WithoutUtcSuffix(at.get_ref<const std::string&>()));
    if (secs.has_value()) ns = *secs * 1'000'000'000;
  }
  if (ns.has_value()) return Time::FromNanos(*ns);
  return absl::InvalidArgumentError(fmt::format("{}.at: expected a UTC date-time or Unix seconds", where));
}

}  // namespace

StatusOr<std::vector<std::pair<Time, double>>> ParseGridFeed(std::string_view json_text, SignalRange range) {
  const nlohmann::json j = nlohmann::json::parse(json_text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object()) return absl::InvalidArgumentError("not a JSON object");
  std::map<Time, double> points;
  for (const char* list : {"values", "forecast"}) {
    if (!j.contains(list)) continue;
    const nlohmann::json& items = j.at(list);
    if (!items.is_array()) return absl::InvalidArgumentError(fmt::format("{}: expected a list", list));
    for (size_t i = 0; i < items.size(); ++i) {
      const std::string where = fmt::format("{}[{}]", list, i);
      const nlohmann::json& e = items[i];
      if (!e.is_object() || !e.contains("at") || !e.contains("value") || !e.at("value").is_number()) {
        return absl::InvalidArgumentError(fmt::format("{}: expected {{\"at\": ..., \"value\": number}}", where));
      }
      SG_ASSIGN_OR_RETURN(const Time at, ReadAt(e.at("at"), where));
      const double v = e.at("value").get<double>();
      if (!std::isfinite(v) || !range.Holds(v)) {
        return absl::InvalidArgumentError(
            fmt::format("{}.value: {} is outside [{}, {}]", where, v, range.min, range.max));
      }
      points[at] = v;
      if (points.size() > kMaxPoints) return absl::InvalidArgumentError("too many points");
    }
  }
  if (!j.contains("values") && !j.contains("forecast")) {
    return absl::InvalidArgumentError("expected \"values\" and/or \"forecast\" lists");
  }
  return std::vector<std::pair<Time, double>>(points.begin(), points.end());
}

int GridPoller::PollDue() {
  const Time now = clock_->Now();
  const std::shared_ptr<const SiteBook> book = cp_->Sites().book;
  if (book == nullptr) return 0;
  int fetched = 0;
  std::map<std::string, Time> next;
  for (const SiteBook::Source& s : book->Sources()) {
    const std::string key = fmt::format("{}/{} {}", s.site, s.signal, s.url);
    auto due = next_.find(key);
    if (due != next_.end() && due->second > now) {
      next[key] = due->second;
      continue;
    }
    next[key] = now + s.poll;
    ++fetched;
    StatusOr<std::vector<std::pair<Time, double>>> points = [&]() -> StatusOr<std::vector<std::pair<Time, double>>> {
      try {  // nothing a source answers may end the server
        SG_ASSIGN_OR_RETURN(const std::string body, Fetch(s.url, *clock_));
        return ParseGridFeed(body, s.signal == "carbon" ? kCarbonRange : kPriceRange);
      } catch (const std::exception& e) {
        return absl::InternalError(fmt::format("fetching it failed: {}", e.what()));
      }
    }();
    Status st = points.status();
    if (points.ok()) st = cp_->SetFeed(s.site, s.signal, s.url, *std::move(points));
    if (!st.ok()) {
      ++failures_;
      if (warn_) {
        warn_(fmt::format("stargate server: site {} {} from {}: {}; the last values stand until stale", s.site,
                          s.signal, s.url, std::string(st.message())));
      }
    }
  }
  next_ = std::move(next);  // sources a reload dropped are forgotten
  return fetched;
}

void GridPoller::Run() {
  std::unique_lock<std::mutex> lock(mu_);
  while (!stop_) {
    lock.unlock();
    PollDue();
    lock.lock();
    Time wake = clock_->Now() + Duration::Minutes(1);  // a reload may add sources
    for (const auto& [key, at] : next_) wake = std::min(wake, at);
    if (!stop_) clock_->WaitUntil(wake_, lock, wake);
  }
}

void GridPoller::Stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  wake_.notify_all();
}

}  // namespace stargate::control
