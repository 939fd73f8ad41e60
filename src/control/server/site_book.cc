#include "control/server/site_book.h"

#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include <fmt/format.h>

#include "workload/series_csv.h"

namespace stargate::control {
namespace {

// A sites file or a series' CSV: a year of 15-minute points is ~1.5 MB.
constexpr uintmax_t kMaxFileBytes = 64 << 20;

StatusOr<std::string> ReadText(const std::string& path) {
  std::error_code ec;
  const uintmax_t size = std::filesystem::file_size(path, ec);
  if (!ec && size > kMaxFileBytes) {
    return absl::InvalidArgumentError(fmt::format("{}: {} bytes; the limit is {}", path, size, kMaxFileBytes));
  }
  std::ifstream f(path, std::ios::binary);
  if (!f) return absl::NotFoundError(fmt::format("{}: cannot open file", path));
  std::ostringstream ss;
  ss << f.rdbuf();
  if (f.bad()) return absl::DataLossError(fmt::format("{}: read error", path));
  return ss.str();
}

}  // namespace

std::string SiteDraw::Source() const {
  if (measured_nodes > 0 && estimated_nodes > 0) return "measured + estimate";
  if (measured_nodes > 0) return "measured";
  return estimated_nodes > 0 ? "estimate" : "none";
}

StatusOr<std::shared_ptr<const SiteBook>> SiteBook::Load(const std::string& path) {
  SG_ASSIGN_OR_RETURN(const std::string text, ReadText(path));
  return Parse(text, path);
}

StatusOr<std::shared_ptr<const SiteBook>> SiteBook::Parse(const std::string& yaml, const std::string& filename) {
  SG_ASSIGN_OR_RETURN(std::vector<SiteInfo> sites, ParseSiteFile(yaml, filename));
  return FromSites(std::move(sites), std::filesystem::path(filename).parent_path().string());
}

StatusOr<std::shared_ptr<const SiteBook>> SiteBook::FromSites(std::vector<SiteInfo> sites,
                                                              const std::string& base_dir) {
  auto book = std::shared_ptr<SiteBook>(new SiteBook());
  auto load = [&](const SiteInfo& site, const GridSeriesInfo& info, const char* what,
                  SignalRange range) -> StatusOr<Series> {
    Series s;
    s.given = info.given();
    s.constant = info.points.empty() && info.file.empty() && info.url.empty();
    s.points.stale_after = info.stale_after;
    s.points.points = info.points;
    if (!info.file.empty()) {
      std::filesystem::path path(info.file);
      if (path.is_relative() && !base_dir.empty()) path = std::filesystem::path(base_dir) / path;
      const std::string name = path.lexically_normal().string();
      auto text = ReadText(name);
      if (!text.ok()) {
        return absl::InvalidArgumentError(
            fmt::format("site {}: {}.file: {}", site.name, what, std::string(text.status().message())));
      }
      auto rows = ReadSeriesPoints(*text, name, info.column, info.scale);
      if (!rows.ok()) {
        return absl::InvalidArgumentError(
            fmt::format("site {}: {}.file: {}", site.name, what, std::string(rows.status().message())));
      }
      // In time order; a time given twice: the later row wins.
      std::map<Time, double> by_time;
      for (const auto& [secs, v] : *rows) {
        if (!range.Holds(v)) {
          return absl::InvalidArgumentError(fmt::format("site {}: {}.file: {}: a value of {} is outside [{}, {}]",
                                                        site.name, what, name, v, range.min, range.max));
        }
        by_time[Time::Epoch() + Duration::Seconds(secs)] = v;
      }
      s.points.points.assign(by_time.begin(), by_time.end());
    }
    if (info.mean.has_value()) {
      s.points.mean = *info.mean;
    } else if (!s.points.points.empty()) {
      double sum = 0;
      for (const auto& p : s.points.points) sum += p.second;
      s.points.mean = sum / static_cast<double>(s.points.points.size());
    }
    return s;
  };
  for (const SiteInfo& site : sites) {
    book->index_[site.name] = book->carbon_.size();
    SG_ASSIGN_OR_RETURN(Series carbon, load(site, site.carbon, "carbon", kCarbonRange));
    SG_ASSIGN_OR_RETURN(Series price, load(site, site.price, "price", kPriceRange));
    book->carbon_.push_back(std::move(carbon));
    book->price_.push_back(std::move(price));
  }
  book->sites_ = std::move(sites);
  return std::shared_ptr<const SiteBook>(std::move(book));
}

std::vector<SiteBook::Source> SiteBook::Sources() const {
  std::vector<Source> out;
  for (const SiteInfo& s : sites_) {
    if (!s.carbon.url.empty()) out.push_back({s.name, "carbon", s.carbon.url, s.carbon.poll});
    if (!s.price.url.empty()) out.push_back({s.name, "price", s.price.url, s.price.poll});
  }
  return out;
}

std::shared_ptr<const SiteBook> SiteBook::WithPoints(const std::string& site, const std::string& signal,
                                                     const std::string& url,
                                                     std::vector<std::pair<Time, double>> points) const {
  auto it = index_.find(site);
  if (it == index_.end()) return nullptr;
  const SiteInfo& info = sites_[it->second];
  const bool carbon = signal == "carbon";
  if ((carbon ? info.carbon.url : info.price.url) != url || url.empty()) return nullptr;
  auto copy = std::make_shared<SiteBook>(*this);
  (carbon ? copy->carbon_ : copy->price_)[it->second].points.points = std::move(points);
  return copy;
}

std::shared_ptr<const SiteBook> SiteBook::WithFeedsOf(const SiteBook& old) const {
  auto copy = std::make_shared<SiteBook>(*this);
  for (const auto& [name, i] : index_) {
    auto o = old.index_.find(name);
    if (o == old.index_.end()) continue;
    const SiteInfo &now = sites_[i], &before = old.sites_[o->second];
    if (!now.carbon.url.empty() && now.carbon.url == before.carbon.url) {
      copy->carbon_[i].points.points = old.carbon_[o->second].points.points;
    }
    if (!now.price.url.empty() && now.price.url == before.price.url) {
      copy->price_[i].points.points = old.price_[o->second].points.points;
    }
  }
  return copy;
}

const SiteInfo* SiteBook::Find(const std::string& name) const {
  auto it = index_.find(name);
  return it == index_.end() ? nullptr : &sites_[it->second];
}

SiteGridNow SiteBook::GridAt(const std::string& name, Time now) const {
  SiteGridNow out;
  auto it = index_.find(name);
  if (it == index_.end()) return out;
  const Series& carbon = carbon_[it->second];
  const Series& price = price_[it->second];
  out.carbon_given = carbon.given;
  out.price_given = price.given;
  // A constant is its mean at every time, never stale.
  auto value = [](const Series& s, Time t) {
    return s.constant ? sched::PointSeries::Value{s.points.mean, false, Time::Never()} : s.points.At(t);
  };
  sched::SetGridSignals([&](Time t) { return value(carbon, t).value; }, [&](Time t) { return value(price, t).value; },
                        now, sites_[it->second].forecast, sites_[it->second].forecast_model, &out.signals);
  const auto c = value(carbon, now);
  const auto p = value(price, now);
  out.signals.carbon_stale = carbon.given && c.stale;
  out.signals.price_stale = price.given && p.stale;
  out.carbon_as_of = c.as_of;
  out.price_as_of = p.as_of;
  return out;
}

}  // namespace stargate::control
