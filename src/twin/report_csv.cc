#include "twin/report_csv.h"

#include <algorithm>
#include <array>
#include <bit>
#include <charconv>
#include <cstdint>
#include <cstring>
#include <limits>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <fmt/format.h>

#include "twin/report_format.h"

namespace stargate::twin {
namespace {

// Rows collect in a buffer that is handed to the stream in chunks of about
// this size: few stream calls, bounded memory.
constexpr size_t kFlushBytes = 64 * 1024;

using Buffer = fmt::memory_buffer;

void Append(Buffer* buf, std::string_view s) { buf->append(s.data(), s.data() + s.size()); }

// RFC 4180 quoting, only where needed so plain fields stay plain.
void AppendField(Buffer* buf, std::string_view s) {
  if (s.find_first_of(",\"\r\n") == std::string_view::npos) {
    Append(buf, s);
    return;
  }
  buf->push_back('"');
  for (char c : s) {
    if (c == '"') buf->push_back('"');
    buf->push_back(c);
  }
  buf->push_back('"');
}

void FlushIfLarge(Buffer* buf, std::ostream& out, bool force = false) {
  if (!force && buf->size() < kFlushBytes) return;
  out.write(buf->data(), static_cast<std::streamsize>(buf->size()));
  buf->clear();
}

bool RanAtSite(const RunResult& r, const JobRecord& j) {
  return j.site >= 0 && static_cast<size_t>(j.site) < r.sites.size();
}

void AppendJob(const RunResult& r, const JobRecord& j, Buffer* buf) {
  const bool ran = RanAtSite(r, j);
  const bool finished = j.outcome == JobOutcome::kFinished && j.end != Time::Never();
  auto out = fmt::appender(*buf);
  fmt::format_to(out, "{},", j.id);
  AppendField(buf, j.name);
  buf->push_back(',');
  AppendField(buf, j.tenant);
  fmt::format_to(out, ",{},{},{},{},", Name(j.kind), ran ? Name(j.accelerator) : "", j.accelerators, j.nodes);
  if (ran) AppendField(buf, r.sites[static_cast<size_t>(j.site)].name);
  fmt::format_to(
      out, ",{},{},{},{},{},{},{},{},{},{},{},{},{},", report::HoursOrEmpty(j.submit),
      report::HoursOrEmpty(j.first_start), report::HoursOrEmpty(j.end),
      j.wait.is_infinite() ? "" : report::Fixed(j.wait.hours(), 4),
      finished ? report::Fixed((j.end - j.submit).hours(), 4) : "", j.restarts,
      report::Fixed(j.useful_device_s / 3600.0, 4), report::Fixed(j.allocated_device_s / 3600.0, 4),
      j.checkpoint_interval > Duration::Zero() ? report::Fixed(j.checkpoint_interval.seconds() / 60.0, 2) : "",
      report::Fixed(j.energy_kwh, 3), report::Fixed(j.co2_kg, 3), report::Fixed(j.cost_usd, 2), j.sla_missed ? 1 : 0);
  fmt::format_to(out, "{},", Name(j.outcome));
  AppendField(buf, j.reason);
  buf->push_back('\n');
}

size_t LongestSeries(const RunResult& r) {
  size_t n = 0;
  for (const SiteSeries& s : r.sites) {
    n = std::max({n, s.utilisation.size(), s.facility_mw.size(), s.carbon.size(), s.price.size()});
  }
  return n;
}

}  // namespace

void WriteJobsCsv(const RunResult& result, std::ostream& out) {
  Buffer buf;
  Append(&buf,
         "id,name,tenant,kind,accelerator,accelerators,nodes,site,submit_h,first_start_h,end_h,"
         "wait_h,jct_h,restarts,useful_device_h,allocated_device_h,checkpoint_interval_min,"
         "energy_kwh,co2_kg,cost_usd,sla_missed,outcome,reason\n");
  for (const JobRecord& job : result.jobs) {
    AppendJob(result, job, &buf);
    FlushIfLarge(&buf, out);
  }
  FlushIfLarge(&buf, out, /*force=*/true);
}

void WriteSiteSeriesCsv(const RunResult& result, std::ostream& out) {
  Buffer buf;
  Append(&buf, "hour,site,utilisation,facility_mw,carbon_g_per_kwh,price_usd_per_mwh\n");
  const size_t hours = LongestSeries(result);
  const size_t n = result.sites.size();
  constexpr int kColumns = 4;
  constexpr int kDecimals[kColumns] = {6, 6, 3, 3};
  // Most sites stand idle most hours, at the same utilisation and facility
  // power hour after hour (9,236 of the 10,000 edge sites). Each site keeps
  // the text of its name and those two fields as last written, in a cache
  // line of its own, and copies it again while their bits are unchanged:
  // half the figures of a year of 10,000 sites are then not formatted.
  constexpr size_t kHead = 64;
  std::vector<std::string> names(n);  // each site's name as its field, quoted once
  for (size_t i = 0; i < n; ++i) {
    Buffer field;
    AppendField(&field, result.sites[i].name);
    names[i].assign(field.data(), field.size());
  }
  struct alignas(kHead) Head {
    char text[kHead];
  };
  std::vector<Head> heads(n);
  std::vector<uint8_t> head_len(n, 0);  // 0: none kept (a head holds at least its two commas)
  std::vector<std::array<uint64_t, 2>> head_bits(n);
  // The rows go hour by hour across the sites, but each site's series are
  // their own arrays: read in that order, a year of 10,000 sites (40,000
  // arrays of 70 KB) missed the TLB at nearly every value, and this file
  // took half the run. A block of hours is copied first, series by series,
  // into one array in row order (41 MB at 10,000 sites). 128 hours, so that
  // each series is read a kilobyte at a time (32 hours was 20% slower).
  constexpr size_t kBlockHours = 128;
  // The copy goes a tile of kTileSites sites at a time, hour by hour
  // within it: each hour's row of the tile is then written in order (1
  // KB), and the tile's series (128 arrays) stay in the cache and the
  // TLB across its hours. Filled site by site instead, every value went
  // to another row 320 KB away.
  constexpr size_t kTileSites = 32;
  std::vector<double> block(std::min(kBlockHours, hours) * n * kColumns);
  std::vector<std::span<const double>> tile(kTileSites * kColumns);
  for (size_t h0 = 0; h0 < hours; h0 += kBlockHours) {
    const size_t len = std::min(kBlockHours, hours - h0);
    for (size_t i0 = 0; i0 < n; i0 += kTileSites) {
      const size_t width = std::min(kTileSites, n - i0);
      for (size_t i = 0; i < width; ++i) {
        const SiteSeries& s = result.sites[i0 + i];
        tile[i * kColumns] = s.utilisation;
        tile[i * kColumns + 1] = s.facility_mw;
        tile[i * kColumns + 2] = s.carbon;
        tile[i * kColumns + 3] = s.price;
      }
      for (size_t d = 0; d < len; ++d) {
        double* row = &block[(d * n + i0) * kColumns];
        for (size_t j = 0; j < width * kColumns; ++j) {
          const std::span<const double> c = tile[j];
          row[j] = h0 + d < c.size() ? c[h0 + d] : std::numeric_limits<double>::quiet_NaN();
        }
      }
    }
    for (size_t d = 0; d < len; ++d) {
      char hour[24] = {};
      char* end = std::to_chars(hour, hour + sizeof(hour) - 1, h0 + d).ptr;
      *end++ = ',';
      const size_t hour_len = static_cast<size_t>(end - hour);
      for (size_t i = 0; i < n; ++i) {
        const double* row = &block[(d * n + i) * kColumns];
        // Room for the longest row, made once; the row is then written
        // through a pointer (the buffer's appends were a call each). The
        // hour and a kept head are copied whole (a fixed size is a move
        // or two, a call to memmove otherwise), then the end set back.
        const size_t at = buf.size();
        buf.resize(at + sizeof(hour) + std::max(kHead, names[i].size() + 2 * (1 + report::kFixedViewRoom)) +
                   (kColumns - 2) * (1 + report::kFixedViewRoom) + 1);
        char* p = buf.data() + at;
        std::memcpy(p, hour, sizeof(hour));
        p += hour_len;
        const std::array<uint64_t, 2> bits = {std::bit_cast<uint64_t>(row[0]), std::bit_cast<uint64_t>(row[1])};
        if (head_len[i] != 0 && bits == head_bits[i]) {
          std::memcpy(p, heads[i].text, kHead);
          p += head_len[i];
        } else {
          char* const head = p;
          p = std::copy_n(names[i].data(), names[i].size(), p);
          for (int k = 0; k < 2; ++k) {
            *p++ = ',';
            p = report::WriteFixedView(row[k], kDecimals[k], p);
          }
          const auto len = static_cast<size_t>(p - head);
          head_len[i] = len <= kHead ? static_cast<uint8_t>(len) : 0;  // longer ones are written each time
          head_bits[i] = bits;
          if (head_len[i] != 0) std::memcpy(heads[i].text, head, kHead);
        }
        for (int k = 2; k < kColumns; ++k) {
          *p++ = ',';
          p = report::WriteFixedView(row[k], kDecimals[k], p);
        }
        *p++ = '\n';
        buf.resize(static_cast<size_t>(p - buf.data()));
        FlushIfLarge(&buf, out);
      }
    }
  }
  FlushIfLarge(&buf, out, /*force=*/true);
}

void WriteAuditCsv(const RunResult& result, std::ostream& out) {
  Buffer buf;
  Append(&buf, "time_h,job,name,tenant,action,count,last_h,site,detail\n");
  for (const AuditRecord& a : result.audit) {
    fmt::format_to(fmt::appender(buf), "{},{},", report::HoursOrEmpty(a.at), a.job);
    const JobRecord* job = a.job < result.jobs.size() ? &result.jobs[a.job] : nullptr;
    AppendField(&buf, job != nullptr ? job->name : "");
    buf.push_back(',');
    AppendField(&buf, job != nullptr ? job->tenant : "");
    fmt::format_to(fmt::appender(buf), ",{},{},{},", Name(a.action), a.count, report::HoursOrEmpty(a.last));
    if (a.site >= 0 && static_cast<size_t>(a.site) < result.sites.size()) {
      AppendField(&buf, result.sites[static_cast<size_t>(a.site)].name);
    }
    buf.push_back(',');
    AppendField(&buf, a.detail);
    buf.push_back('\n');
    FlushIfLarge(&buf, out);
  }
  FlushIfLarge(&buf, out, /*force=*/true);
}

}  // namespace stargate::twin
