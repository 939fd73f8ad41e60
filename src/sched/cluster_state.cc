#include "sched/cluster_state.h"

#include <algorithm>
#include <cassert>
#include <cmath>
#include <map>

#include "model/geo.h"

namespace stargate::sched {

int64_t PoolState::NodesWithFree(int g) const {
  int64_t n = 0;
  for (int f = std::max(g, 1); f <= per_node; ++f) n += static_cast<int64_t>(buckets[f].size());
  return n;
}

void BlockIndex::Init(uint32_t num_nodes, int nodes_per_block) {
  block_nodes = std::max(1, nodes_per_block);
  const uint32_t blocks = (num_nodes + block_nodes - 1) / block_nodes;
  whole.assign(blocks, 0);
  pos.assign(blocks, 0);
  buckets.assign(block_nodes + 1, {});
  for (uint32_t b = 0; b < blocks; ++b) {
    whole[b] = static_cast<uint16_t>(std::min<uint32_t>(block_nodes, num_nodes - b * block_nodes));
    Link(b);
  }
}

void BlockIndex::Link(uint32_t b) {
  if (whole[b] == 0) return;  // blocks with no whole node are in no bucket
  pos[b] = static_cast<uint32_t>(buckets[whole[b]].size());
  buckets[whole[b]].push_back(b);
}

void BlockIndex::Unlink(uint32_t b) {
  if (whole[b] == 0) return;
  auto& from = buckets[whole[b]];
  from[pos[b]] = from.back();
  pos[from[pos[b]]] = pos[b];
  from.pop_back();
}

void BlockIndex::Inc(uint32_t b) {
  Unlink(b);
  ++whole[b];
  Link(b);
}

void BlockIndex::Dec(uint32_t b) {
  assert(whole[b] > 0);
  Unlink(b);
  --whole[b];
  Link(b);
}

void ClusterState::SetWanLink(SiteId a, SiteId b, double bytes_per_s, double latency_s) {
  wan_links_[{std::min(a.value(), b.value()), std::max(a.value(), b.value())}] =
      WanLink{bytes_per_s, std::max(0.0, latency_s)};
}

void ClusterState::LinkRegions(const std::string& a, const std::string& b, double bytes_per_s, double latency_s) {
  backbone_.Link(a, b, bytes_per_s, latency_s);
  // Each site's leg to its hub, once per region (a region of no located
  // site has legs of 0).
  hub_km_.resize(sites_.size(), 0.0);
  for (const std::string& region : {a, b}) {
    if (!hubs_placed_.insert(region).second) continue;
    double lat = 0, lon = 0;
    if (!PlaceCoordinates(region, &lat, &lon)) continue;
    for (size_t s = 0; s < sites_.size(); ++s) {
      const SiteState& site = sites_[s];
      if (site.region == region && site.located) {
        hub_km_[s] = model::HaversineKm(site.latitude, site.longitude, lat, lon);
      }
    }
  }
}

double ClusterState::FibreBetween(SiteId a, SiteId b) const {
  const SiteState& x = sites_[a.value()];
  const SiteState& y = sites_[b.value()];
  if (!x.located || !y.located) return 0;
  const double km = model::HaversineKm(x.latitude, x.longitude, y.latitude, y.longitude);
  return model::FiberRouteLatency(km).seconds();
}

double ClusterState::WanLatency(SiteId a, SiteId b) const {
  if (a == b) return 0;
  if (auto it = wan_links_.find({std::min(a.value(), b.value()), std::max(a.value(), b.value())});
      it != wan_links_.end()) {
    return it->second.latency_s > 0 ? it->second.latency_s : FibreBetween(a, b);
  }
  if (!backbone_.empty()) {
    if (const std::optional<double> path = backbone_.PathLatency(sites_[a.value()].region, sites_[b.value()].region)) {
      auto leg = [&](SiteId s) { return model::FiberRouteLatency(hub_km_[s.value()]).seconds(); };
      return *path + (leg(a) + leg(b));  // the same sum either way round
    }
  }
  return FibreBetween(a, b);
}

double ClusterState::WanBytesPerSec(SiteId a, SiteId b) const {
  if (auto it = wan_links_.find({std::min(a.value(), b.value()), std::max(a.value(), b.value())});
      it != wan_links_.end()) {
    return it->second.bytes_per_s;
  }
  const double x = sites_[a.value()].wan_uplink, y = sites_[b.value()].wan_uplink;
  if (!backbone_.empty()) {
    if (const std::optional<double> path =
            backbone_.PathBytesPerSec(sites_[a.value()].region, sites_[b.value()].region)) {
      return std::min({x > 0 ? x : kDefaultWan, *path, y > 0 ? y : kDefaultWan});
    }
  }
  if (x > 0 && y > 0) return std::min(x, y);
  if (x > 0 || y > 0) return std::max(x, y);
  return kDefaultWan;
}

std::optional<SiteId> ClusterState::FindSite(std::string_view name) const {
  for (size_t s = 0; s < sites_.size(); ++s) {
    if (sites_[s].name == name) return SiteId(static_cast<uint16_t>(s));
  }
  return std::nullopt;
}

ClusterState::ClusterState(const std::vector<SiteSpec>& sites) {
  uint32_t next_node = 0;
  // The first site of each (pue, series spec), ordered by the whole spec:
  // exported scenarios give every site its own hourly values at mean 0.
  const auto spec_less = [](const std::pair<double, const SeriesSpec*>& a,
                            const std::pair<double, const SeriesSpec*>& b) {
    if (a.first != b.first) return a.first < b.first;
    return a.second->Fields() < b.second->Fields();
  };
  using Leads = std::map<std::pair<double, const SeriesSpec*>, size_t, decltype(spec_less)>;
  Leads leads[2] = {Leads(spec_less), Leads(spec_less)};
  // (A NaN would not order: such a site leads itself.)
  const auto orderable = [](double pue, const SeriesSpec& x) {
    return !std::isnan(pue) && !std::isnan(x.mean) && !std::isnan(x.daily_amplitude) &&
           !std::isnan(x.seasonal_amplitude) && !std::isnan(x.noise) && !std::isnan(x.scale) &&
           std::none_of(x.values.begin(), x.values.end(), [](double v) { return std::isnan(v); });
  };
  const auto leader = [&](int k, size_t s) {
    const SeriesSpec& mine = k == 0 ? sites[s].carbon : sites[s].price;
    if (!mine.Deterministic() || !orderable(sites[s].pue, mine)) return SiteId(static_cast<uint16_t>(s));
    return SiteId(static_cast<uint16_t>(leads[k].emplace(std::make_pair(sites[s].pue, &mine), s).first->second));
  };
  for (size_t s = 0; s < sites.size(); ++s) {
    const SiteSpec& spec = sites[s];
    SiteState site;
    site.carbon_leader = leader(0, s);
    site.price_leader = leader(1, s);
    site.name = spec.name;
    site.region = spec.region;
    site.latitude = spec.latitude;
    site.fabric = spec.fabric;
    site.longitude = spec.longitude;
    site.located = spec.located;
    auto it = std::find(jurisdictions_.begin(), jurisdictions_.end(), spec.jurisdiction);
    site.jurisdiction = static_cast<int>(it - jurisdictions_.begin());
    if (it == jurisdictions_.end()) jurisdictions_.push_back(spec.jurisdiction);
    site.power_cap_w = spec.power_cap.value();
    site.ramp_w_per_s = spec.power_ramp.RateWattsPerSecond();
    site.pue = spec.pue;
    site.wan_uplink = spec.wan_uplink.value();
    for (const PoolSpec& ps : spec.pools) {
      PoolState pool;
      pool.site = SiteId(static_cast<uint16_t>(s));
      pool.type = ps.type;
      pool.per_node = std::max(1, ps.accels_per_node);
      pool.domain_nodes = std::max(1, ps.domain_nodes);
      pool.nodes_per_rack = std::max(1, ps.nodes_per_rack);
      pool.nodes_per_leaf = std::max(1, spec.fabric.nodes_per_leaf);
      pool.leaves_per_pod = std::max(1, spec.fabric.leaves_per_pod);
      pool.first_node = next_node;
      pool.num_nodes = static_cast<uint32_t>(std::max(0, ps.nodes));
      pool.buckets.resize(pool.per_node + 1);
      // The site's hot spares, shared among its pools by node count.
      int site_nodes = 0;
      for (const PoolSpec& q : spec.pools) site_nodes += std::max(0, q.nodes);
      if (site_nodes > 0) {
        pool.hot_spares = static_cast<uint32_t>(
            (static_cast<int64_t>(spec.hot_spares) * pool.num_nodes + site_nodes / 2) / site_nodes);
      }
      const uint16_t pool_index = static_cast<uint16_t>(pools_.size());
      site.pools.push_back(PoolId(pool_index));
      site.total_devices += pool.total_devices();
      total_devices_ += pool.total_devices();
      pools_.push_back(std::move(pool));
      PoolState& p = pools_.back();
      auto& full = p.buckets[p.per_node];
      full.reserve(p.num_nodes);
      for (uint32_t i = 0; i < p.num_nodes; ++i) {
        nodes_.push_back(
            NodeState{pool_index, static_cast<uint8_t>(p.per_node), true, static_cast<uint32_t>(full.size())});
        full.push_back(i);
      }
      p.domains.Init(p.num_nodes, p.domain_nodes);
      p.leaves.Init(p.num_nodes, p.nodes_per_leaf);
      p.up_nodes = p.num_nodes;
      p.free_devices = p.total_devices();
      next_node += p.num_nodes;
    }
    sites_.push_back(std::move(site));
  }
  running_.resize(pools_.size());
  // FNV-1a over the pools' shapes.
  shape_id_ = 14695981039346656037ull;
  auto mix = [&](uint64_t v) { shape_id_ = (shape_id_ ^ v) * 1099511628211ull; };
  mix(pools_.size());
  for (const PoolState& p : pools_) {
    for (uint64_t v : {uint64_t{p.first_node}, uint64_t{p.num_nodes}, static_cast<uint64_t>(p.per_node),
                       uint64_t{p.domains.num_blocks()}, static_cast<uint64_t>(p.domains.block_nodes),
                       uint64_t{p.leaves.num_blocks()}, static_cast<uint64_t>(p.leaves.block_nodes)}) {
      mix(v);
    }
  }
  // Each type's pools, largest first, for MaxGang.
  by_devices_.resize(kNumAcceleratorTypes);
  by_nodes_.resize(kNumAcceleratorTypes);
  for (size_t i = 0; i < pools_.size(); ++i) {
    by_devices_[static_cast<size_t>(pools_[i].type)].push_back(PoolId(static_cast<uint16_t>(i)));
  }
  for (size_t t = 0; t < by_devices_.size(); ++t) {
    by_nodes_[t] = by_devices_[t];
    std::stable_sort(by_devices_[t].begin(), by_devices_[t].end(),
                     [&](PoolId a, PoolId b) { return pool(a).total_devices() > pool(b).total_devices(); });
    std::stable_sort(by_nodes_[t].begin(), by_nodes_[t].end(),
                     [&](PoolId a, PoolId b) { return pool(a).num_nodes > pool(b).num_nodes; });
  }
  for (unsigned mask = 0; mask < largest_of_types_.size(); ++mask) {
    for (size_t t = 0; t < by_devices_.size(); ++t) {
      if ((mask & MaskOf(static_cast<AcceleratorType>(t))) == 0 || by_devices_[t].empty()) continue;
      largest_of_types_[mask] = std::max(largest_of_types_[mask], pool(by_devices_[t].front()).total_devices());
    }
  }
  TenantUsage capacity;
  for (const PoolState& p : pools_) capacity += TenantUsage::Of(p.type, p.total_devices());
  tenants_.SetCapacity(capacity);
}

Duration RunningGang::LostIfStoppedAt(Time now) const {
  if (now <= checkpoint_origin) return Duration::Zero();
  const int64_t since = (now - checkpoint_origin).nanos();
  const int64_t period = checkpoint_period.nanos();
  if (period <= 0) return Duration::Nanos(since);
  // The latest snapshot that is durable by now.
  const int64_t durable_for = since - std::max<int64_t>(0, checkpoint_lag.nanos());
  const int64_t k = durable_for >= period ? durable_for / period : 0;
  return Duration::Nanos(since - k * period);
}

TenantUsage ClusterState::UsageOf(const RunningGang& g) const {
  const AcceleratorType type = pools_[g.pool.value()].type;
  return TenantUsage::Of(type, g.share > 0 ? g.share : static_cast<double>(g.devices));
}

void ClusterState::EraseSlotEntry(uint16_t pool, const SlotEnds& ends) {
  if (!ends.empty()) running_[pool].Erase(ReleaseEntry{ends.rbegin()->first, JobId(ends.rbegin()->second), 0});
}

void ClusterState::InsertSlotEntry(uint16_t pool, const SlotEnds& ends) {
  if (!ends.empty()) running_[pool].Insert(ReleaseEntry{ends.rbegin()->first, JobId(ends.rbegin()->second), 1});
}

void ClusterState::AddRunning(const RunningGang& g) {
  RemoveRunning(g.job);
  running_by_job_[g.job.value()] = g;
  MarkChanged(g.pool.value());
  if (g.share > 0 && g.share_slot >= 0) {  // the slot's device, back with its last share
    SlotEnds& ends = slot_ends_[SlotKey(g.share_node, g.share_slot)];
    EraseSlotEntry(g.pool.value(), ends);
    ends.emplace(g.expected_end, g.job.value());
    InsertSlotEntry(g.pool.value(), ends);
  } else {
    running_[g.pool.value()].Insert(ReleaseEntry{g.expected_end, g.job, g.devices});
  }
  tenants_.Add(g.tenant, UsageOf(g));
}

void ClusterState::RemoveRunning(JobId job) {
  auto it = running_by_job_.find(job.value());
  if (it == running_by_job_.end()) return;
  const RunningGang& g = it->second;
  MarkChanged(g.pool.value());
  if (g.share > 0 && g.share_slot >= 0) {
    auto ends = slot_ends_.find(SlotKey(g.share_node, g.share_slot));
    if (ends != slot_ends_.end()) {
      EraseSlotEntry(g.pool.value(), ends->second);
      ends->second.erase({g.expected_end, job.value()});
      InsertSlotEntry(g.pool.value(), ends->second);
      if (ends->second.empty()) slot_ends_.erase(ends);
    }
  } else {
    running_[g.pool.value()].Erase(ReleaseEntry{g.expected_end, job, 0});
  }
  tenants_.Remove(g.tenant, UsageOf(g));
  running_by_job_.erase(it);
}

const RunningGang* ClusterState::Running(JobId job) const {
  auto it = running_by_job_.find(job.value());
  return it == running_by_job_.end() ? nullptr : &it->second;
}

bool ClusterState::PlaceCoordinates(const std::string& name, double* latitude, double* longitude) const {
  for (const SiteState& s : sites_) {
    if (s.name != name) continue;
    if (!s.located) return false;
    *latitude = s.latitude;
    *longitude = s.longitude;
    return true;
  }
  // A region's centre: the mean of its sites' latitudes and longitudes,
  // the longitudes taken the way round the globe that spans them more
  // narrowly: a region across the antimeridian (170 and -170) is centred
  // at 180, not at 0 on the far side of the world.
  double lat = 0, lon = 0, east = 0;  // east: longitudes below 0 taken + 360
  double lo = 0, hi = 0, east_lo = 0, east_hi = 0;
  int n = 0;
  for (const SiteState& s : sites_) {
    if (s.region != name || !s.located) continue;
    const double e = s.longitude < 0 ? s.longitude + 360 : s.longitude;
    lo = n == 0 ? s.longitude : std::min(lo, s.longitude);
    hi = n == 0 ? s.longitude : std::max(hi, s.longitude);
    east_lo = n == 0 ? e : std::min(east_lo, e);
    east_hi = n == 0 ? e : std::max(east_hi, e);
    lat += s.latitude;
    lon += s.longitude;
    east += e;
    ++n;
  }
  if (n == 0) return false;
  *latitude = lat / n;
  *longitude = lon / n;
  if (east_hi - east_lo < hi - lo) {
    const double centre = east / n;
    *longitude = centre > 180 ? centre - 360 : centre;
  }
  return true;
}

std::shared_ptr<const SiteSet> ClusterState::AllowedSites(const std::vector<std::string>& jurisdictions,
                                                          const std::vector<std::string>& regions) const {
  if (jurisdictions.empty() && regions.empty()) return nullptr;
  if (auto it = allowed_sites_.find(AskRef(jurisdictions, regions)); it != allowed_sites_.end()) return it->second;
  // Asks come from users (a server resolves every job file's): bounded.
  // Sets already handed out live on in their requests.
  constexpr size_t kMaxAsks = 4096;
  if (allowed_sites_.size() >= kMaxAsks) allowed_sites_.clear();
  auto in = [](const std::vector<std::string>& names, const std::string& name) {
    return names.empty() || std::find(names.begin(), names.end(), name) != names.end();
  };
  auto set = std::make_shared<SiteSet>(sites_.size());
  for (size_t i = 0; i < sites_.size(); ++i) {
    const SiteState& s = sites_[i];
    if (in(jurisdictions, jurisdictions_[s.jurisdiction]) && in(regions, s.region)) {
      set->Add(SiteId(static_cast<uint16_t>(i)));
    }
  }
  return allowed_sites_.emplace(Ask(jurisdictions, regions), std::move(set)).first->second;
}

bool ClusterState::AnySiteIn(const std::vector<std::string>& jurisdictions) const {
  return std::any_of(jurisdictions.begin(), jurisdictions.end(), [this](const std::string& j) {
    return std::find(jurisdictions_.begin(), jurisdictions_.end(), j) != jurisdictions_.end();
  });
}

bool ClusterState::PoolMatches(PoolId id, const JobRequest& req) const {
  const PoolState& p = pools_[id.value()];
  if (!(req.accel_mask & MaskOf(p.type))) return false;
  if (req.fixed_per_node > p.per_node) return false;  // its nodes are too small
  return req.allowed == nullptr || req.allowed->Has(p.site);
}

void ClusterState::SetSignals(SiteId s, const SiteSignals& signals) {
  SiteSignals& old = sites_[s.value()].signals;
  if (old.carbon != signals.carbon || old.carbon_ahead != signals.carbon_ahead ||
      old.carbon_min_ahead != signals.carbon_min_ahead || old.price != signals.price) {
    ++grid_version_;
  }
  old = signals;
}

void ClusterState::MarkChanged(uint32_t pool) {
  if (log_.flag.empty() || log_.flag[pool]) return;
  log_.flag[pool] = 1;
  log_.pools.push_back(PoolId(static_cast<uint16_t>(pool)));
}

bool ClusterState::TakeChangedPools(uint64_t reader, std::vector<PoolId>* pools) const {
  pools->clear();
  const bool same = reader != 0 && reader == log_.reader;
  if (same) pools->swap(log_.pools);
  for (PoolId p : *pools) log_.flag[p.value()] = 0;
  log_.pools.clear();
  if (!same) log_.flag.assign(pools_.size(), 0);
  log_.reader = reader;
  return same;
}

int64_t ClusterState::MaxGang(const JobRequest& req) const {
  if (req.allowed == nullptr && req.fixed_per_node <= 0 && req.accel_mask < largest_of_types_.size()) {
    return largest_of_types_[req.accel_mask];
  }
  if (req.allowed == nullptr) return MaxGangWalk(req);  // each type's first pool matches
  const GangAsk ask{req.allowed.get(), req.accel_mask, req.fixed_per_node};
  if (auto it = max_gang_.find(ask); it != max_gang_.end()) return it->second.second;
  constexpr size_t kMaxAsks = 4'096;
  if (max_gang_.size() >= kMaxAsks) max_gang_.clear();
  const int64_t best = MaxGangWalk(req);
  max_gang_.emplace(ask, std::make_pair(req.allowed, best));
  return best;
}

int64_t ClusterState::MaxGangWalk(const JobRequest& req) const {
  int64_t best = 0;
  for (size_t t = 0; t < by_devices_.size(); ++t) {
    if ((req.accel_mask & MaskOf(static_cast<AcceleratorType>(t))) == 0) continue;
    // The first pool the job accepts in its type's largest-first order
    // is the type's largest (by nodes, for a fixed per-node count).
    for (PoolId id : req.fixed_per_node > 0 ? by_nodes_[t] : by_devices_[t]) {
      if (!PoolMatches(id, req)) continue;
      const PoolState& p = pool(id);
      best = std::max(best, req.fixed_per_node > 0 ? int64_t{p.num_nodes} * req.fixed_per_node : p.total_devices());
      break;
    }
  }
  return best;
}

// Full nodes (0 free) are in no bucket: no query ever asks for them, and a
// whole-node gang then costs one bucket operation per node, not two.
void ClusterState::BucketInsert(uint32_t node) {
  NodeState& ns = nodes_[node];
  if (ns.free == 0) return;
  PoolState& p = pools_[ns.pool];
  auto& bucket = p.buckets[ns.free];
  ns.bucket_pos = static_cast<uint32_t>(bucket.size());
  const uint32_t local = node - p.first_node;
  bucket.push_back(local);
  if (ns.free == p.per_node) {
    p.domains.Inc(p.domains.BlockOf(local));
    p.leaves.Inc(p.leaves.BlockOf(local));
  }
}

void ClusterState::BucketErase(uint32_t node) {
  NodeState& ns = nodes_[node];
  if (ns.free == 0) return;
  PoolState& p = pools_[ns.pool];
  auto& bucket = p.buckets[ns.free];
  const uint32_t moved = bucket.back();
  bucket[ns.bucket_pos] = moved;
  nodes_[p.first_node + moved].bucket_pos = ns.bucket_pos;
  bucket.pop_back();
  if (ns.free == p.per_node) {
    const uint32_t local = node - p.first_node;
    p.domains.Dec(p.domains.BlockOf(local));
    p.leaves.Dec(p.leaves.BlockOf(local));
  }
}

void ClusterState::Allocate(NodeId n, int devices) {
  NodeState& ns = nodes_[n.value()];
  assert(ns.up && ns.free >= devices);
  PoolState& p = pools_[ns.pool];
  MarkChanged(ns.pool);
  BucketErase(n.value());
  ns.free = static_cast<uint8_t>(ns.free - devices);
  BucketInsert(n.value());
  p.free_devices -= devices;
  p.busy_devices += devices;
}

void ClusterState::Release(NodeId n, int devices) {
  NodeState& ns = nodes_[n.value()];
  PoolState& p = pools_[ns.pool];
  assert(ns.free + devices <= p.per_node);
  MarkChanged(ns.pool);
  p.busy_devices -= devices;
  if (!ns.up) {  // released after going down: just restore the count
    ns.free = static_cast<uint8_t>(ns.free + devices);
    return;
  }
  BucketErase(n.value());
  ns.free = static_cast<uint8_t>(ns.free + devices);
  BucketInsert(n.value());
  p.free_devices += devices;
}

ClusterState::OpenSlot ClusterState::OpenSlotOf(NodeId n, int slot, int used) const {
  // An over-full slot (a driver restoring what agents report) is open with
  // no room.
  return OpenSlot{nodes_[n.value()].pool, static_cast<int16_t>(std::max(0, kWholeShare - used)), n.value(),
                  static_cast<uint8_t>(slot)};
}

bool ClusterState::AddShare(NodeId n, int slot, int milli) {
  assert(slot >= 0 && slot < 256 && milli > 0 && milli < kWholeShare);
  std::vector<int16_t>& used = node_shares_[n.value()];
  if (used.size() <= static_cast<size_t>(slot)) used.resize(static_cast<size_t>(slot) + 1, 0);
  const bool opens = used[slot] == 0;
  if (opens) {
    Allocate(n, 1);
  } else {
    open_slots_.erase(OpenSlotOf(n, slot, used[slot]));
  }
  used[slot] = static_cast<int16_t>(used[slot] + milli);
  open_slots_.insert(OpenSlotOf(n, slot, used[slot]));
  MarkChanged(nodes_[n.value()].pool);
  return opens;
}

bool ClusterState::RemoveShare(NodeId n, int slot, int milli) {
  auto it = node_shares_.find(n.value());
  if (it == node_shares_.end() || it->second.size() <= static_cast<size_t>(slot) || it->second[slot] == 0) {
    return false;
  }
  std::vector<int16_t>& used = it->second;
  open_slots_.erase(OpenSlotOf(n, slot, used[slot]));
  used[slot] = static_cast<int16_t>(std::max(0, used[slot] - milli));
  MarkChanged(nodes_[n.value()].pool);
  if (used[slot] > 0) {
    open_slots_.insert(OpenSlotOf(n, slot, used[slot]));
    return false;
  }
  if (std::all_of(used.begin(), used.end(), [](int16_t u) { return u == 0; })) node_shares_.erase(it);
  Release(n, 1);
  return true;
}

void ClusterState::FillShares(NodeId n) {
  auto it = node_shares_.find(n.value());
  if (it == node_shares_.end()) return;
  for (size_t slot = 0; slot < it->second.size(); ++slot) {
    const int used = it->second[slot];
    if (used > 0 && used < kWholeShare) AddShare(n, static_cast<int>(slot), kWholeShare - used);
  }
}

int ClusterState::ShareUsed(NodeId n, int slot) const {
  auto it = node_shares_.find(n.value());
  if (it == node_shares_.end() || slot < 0 || it->second.size() <= static_cast<size_t>(slot)) return 0;
  return it->second[slot];
}

void ClusterState::SetNodeUp(NodeId n, bool up) {
  NodeState& ns = nodes_[n.value()];
  if (ns.up == up) return;
  PoolState& p = pools_[ns.pool];
  MarkChanged(ns.pool);
  if (up) {
    ns.up = true;
    BucketInsert(n.value());
    p.free_devices += ns.free;
    ++p.up_nodes;
  } else {
    BucketErase(n.value());
    p.free_devices -= ns.free;
    ns.up = false;
    --p.up_nodes;
  }
}

void ClusterState::ResetNode(NodeId n) {
  if (auto it = node_shares_.find(n.value()); it != node_shares_.end()) {
    for (size_t slot = 0; slot < it->second.size(); ++slot) {
      if (it->second[slot] > 0) open_slots_.erase(OpenSlotOf(n, static_cast<int>(slot), it->second[slot]));
    }
    node_shares_.erase(it);  // each slot's device is among those released below
  }
  SetNodeUp(n, true);
  const NodeState& ns = nodes_[n.value()];
  const int busy = pools_[ns.pool].per_node - ns.free;
  if (busy > 0) Release(n, busy);
}

bool ClusterState::SameAs(const ClusterState& o) const {
  if (nodes_.size() != o.nodes_.size() || pools_.size() != o.pools_.size()) return false;
  for (size_t i = 0; i < nodes_.size(); ++i) {
    if (nodes_[i].free != o.nodes_[i].free || nodes_[i].up != o.nodes_[i].up) return false;
  }
  for (size_t p = 0; p < pools_.size(); ++p) {
    const PoolState &a = pools_[p], &b = o.pools_[p];
    if (a.free_devices != b.free_devices || a.busy_devices != b.busy_devices || a.up_nodes != b.up_nodes) return false;
    for (int f = 1; f <= a.per_node; ++f) {
      if (a.NodesWithFree(f) != b.NodesWithFree(f)) return false;
    }
    if (running_[p].size() != o.running_[p].size() || running_[p].total_devices() != o.running_[p].total_devices()) {
      return false;
    }
  }
  auto shares = [](const std::unordered_map<uint32_t, std::vector<int16_t>>& m) {
    std::map<uint32_t, std::vector<int16_t>> out;
    for (const auto& [n, used] : m) {
      std::vector<int16_t> v = used;
      while (!v.empty() && v.back() == 0) v.pop_back();
      if (!v.empty()) out[n] = std::move(v);
    }
    return out;
  };
  if (shares(node_shares_) != shares(o.node_shares_) || open_slots_ != o.open_slots_ || slot_ends_ != o.slot_ends_) {
    return false;
  }
  if (running_by_job_.size() != o.running_by_job_.size()) return false;
  for (const auto& [job, g] : running_by_job_) {
    auto it = o.running_by_job_.find(job);
    if (it == o.running_by_job_.end() || !(it->second == g)) return false;
  }
  return tenants_.SameUsage(o.tenants_);
}

void ClusterState::RecountTenants(std::span<const JobId> jobs) {
  tenants_.ClearUsage();
  for (JobId j : jobs) {
    if (auto it = running_by_job_.find(j.value()); it != running_by_job_.end()) {
      tenants_.Add(it->second.tenant, UsageOf(it->second));
    }
  }
}

}  // namespace stargate::sched
