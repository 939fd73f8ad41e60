#include "control/server/history.h"

namespace stargate::control {

using nlohmann::json;

void History::Add(HistorySample s, const std::map<std::string, SiteSample>& by_site) {
  for (const auto& [name, site] : by_site) {
    auto it = index_.find(name);
    if (it == index_.end()) {
      if (sites_.size() >= kMaxSites) continue;
      it = index_.emplace(name, sites_.size()).first;
      sites_.push_back(name);
    }
    if (s.sites.size() <= it->second) s.sites.resize(it->second + 1);
    s.sites[it->second] = site;
  }
  samples_.push_back(std::move(s));
  while (samples_.size() > kSamples) samples_.pop_front();
}

json History::ToJson() const {
  // One array per series, aligned with `t` (Unix seconds), as uPlot
  // takes them; null where a site was not yet known or its figure is.
  json t = json::array(), pending = json::array(), running = json::array(), started = json::array(),
       finished = json::array();
  auto site_json = [] {
    return json{{"facility_w", json::array()},
                {"cap_w", json::array()},
                {"busy", json::array()},
                {"devices", json::array()},
                {"carbon_g_per_kwh", json::array()}};
  };
  json total = site_json();
  std::vector<json> sites(sites_.size(), site_json());
  auto push = [](json& out, const SiteSample* s) {
    out["facility_w"].push_back(s ? json(s->facility_w) : json(nullptr));
    out["cap_w"].push_back(s && s->cap_w > 0 ? json(s->cap_w) : json(nullptr));
    out["busy"].push_back(s ? json(s->busy) : json(nullptr));
    out["devices"].push_back(s ? json(s->devices) : json(nullptr));
    out["carbon_g_per_kwh"].push_back(s && s->carbon >= 0 ? json(s->carbon) : json(nullptr));
  };
  for (const HistorySample& s : samples_) {
    t.push_back(s.at.millis() / 1000);
    pending.push_back(s.pending);
    running.push_back(s.running);
    started.push_back(s.started);
    finished.push_back(s.finished);
    push(total, &s.total);
    for (size_t i = 0; i < sites_.size(); ++i) push(sites[i], i < s.sites.size() ? &s.sites[i] : nullptr);
  }
  json by_name = json::object();
  for (size_t i = 0; i < sites_.size(); ++i) by_name[sites_[i]] = std::move(sites[i]);
  return json{{"every_s", kEvery.millis() / 1000},
              {"t", t},
              {"jobs", {{"pending", pending}, {"running", running}, {"started", started}, {"finished", finished}}},
              {"total", total},
              {"sites", by_name}};
}

}  // namespace stargate::control
