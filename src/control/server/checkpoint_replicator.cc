#include "control/server/checkpoint_replicator.h"

#include <algorithm>
#include <tuple>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "control/net/digest.h"
#include "model/geo.h"

namespace stargate::control {
namespace {

using State = CheckpointCopyReport::State;

std::string LogUrl(const NodeInfo& n) {
  const std::string& host = n.log_address.empty() ? n.address : n.log_address;
  return host.find(':') != std::string::npos ? fmt::format("http://[{}]:{}", host, n.log_port)
                                             : fmt::format("http://{}:{}", host, n.log_port);
}

std::string Megabytes(uint64_t bytes) { return fmt::format("{:.1f} MB", static_cast<double>(bytes) / 1e6); }

}  // namespace

std::string JobCheckpointDir(const std::string& root, const JobRecord& r) {
  return fmt::format("{}/{}/{}", root, r.spec.spec.tenant,
                     r.spec.checkpoint_dir.empty() ? std::to_string(r.id) : r.spec.checkpoint_dir);
}

const NodeInfo* CheckpointReplicator::Speaker(const std::string& site) const {
  auto it = speakers_.find(site);
  return it == speakers_.end() ? nullptr : nodes_->Find(it->second);
}

Duration CheckpointReplicator::RoundTrip(const std::string& a, const std::string& b) const {
  if (a == b) return Duration::Zero();
  const SiteInfo* x = sites_ == nullptr ? nullptr : sites_->Find(a);
  const SiteInfo* y = sites_ == nullptr ? nullptr : sites_->Find(b);
  if (x == nullptr || y == nullptr || !x->latitude.has_value() || !y->latitude.has_value()) {
    return Duration::Hours(1);  // not located: after every located one
  }
  return model::FiberRoundTrip(model::HaversineKm(*x->latitude, *x->longitude, *y->latitude, *y->longitude));
}

int64_t CheckpointReplicator::RateBetween(const std::string& a, const std::string& b) const {
  double rate = 0;  // 0 = unlimited
  for (const std::string& s : {a, b}) {
    const SiteInfo* info = sites_ == nullptr ? nullptr : sites_->Find(s);
    if (info == nullptr || !info->wan_bandwidth.has_value()) continue;
    const double r = info->wan_bandwidth->value();
    rate = rate == 0 ? r : std::min(rate, r);
  }
  return static_cast<int64_t>(rate);
}

std::string CheckpointReplicator::Nearest(const std::string& site, const std::set<std::string>& holders) const {
  std::string best;
  Duration best_rtt = Duration::Infinite();
  for (const std::string& h : holders) {  // in name order: ties go to the first
    if (const Duration d = RoundTrip(site, h); d < best_rtt) {
      best = h;
      best_rtt = d;
    }
  }
  return best;
}

void CheckpointReplicator::AddPull(const JobRecord& r, const std::string& to, const std::string& from, int64_t step,
                                   bool staging, Time now) {
  const NodeInfo* dst = Speaker(to);
  const NodeInfo* src = Speaker(from);
  if (dst == nullptr || src == nullptr) return;
  const std::string source_dir = JobCheckpointDir(src->checkpoint_root, r) + "/" + CheckpointDirName(step);
  lists_[to].pull.push_back(CheckpointPull{r.id, step, JobCheckpointDir(dst->checkpoint_root, r), LogUrl(*src),
                                           source_dir, CheckpointTicket(src->log_token, source_dir),
                                           RateBetween(from, to), r.spec.checkpoint_keep, r.spec.spec.jurisdictions});
  CheckpointCopyState& c = copies_[{r.id, to}];
  if (c.site.empty() || c.step != step) {
    c = CheckpointCopyState{to, from, step, State::kCopying, 0, 0, "", now, Time(), false};
  }
  c.from = from;
  if (staging && !c.staging) {
    c.staging = true;
    c.since = now;
    ++counters_.stagings;
    uint64_t bytes = 0;
    if (auto h = r.checkpoints.find(from); h != r.checkpoints.end()) bytes = h->second.bytes;
    Audit(
        now, "checkpoint-staging", r.id,
        fmt::format("ranks at site {} wait for checkpoint step {} ({}) from site {}", to, step, Megabytes(bytes), from))
        .IgnoreError();
  }
}

Status CheckpointReplicator::Plan(Time now) {
  speakers_.clear();
  for (const std::string& name : nodes_->movers()) {  // by name: a site's first live mover speaks for it
    if (nodes_->Alive(name, now)) speakers_.try_emplace(nodes_->Find(name)->site, name);
  }
  lists_.clear();
  planned_ = true;
  // In place, not copied: every pass looks at every checkpointing job
  // (Plan changes no record; JobRegistry::ForEachLive).
  std::vector<const JobRecord*> live;
  SG_RETURN_IF_ERROR(jobs_->ForEachLive([&](const JobRecord& r) {
    if (r.spec.spec.checkpoint.enabled) live.push_back(&r);
  }));
  std::set<uint64_t> live_ids;
  std::set<Key> planned;
  for (const JobRecord* job : live) {
    const JobRecord& r = *job;
    live_ids.insert(r.id);
    std::set<std::string> home;  // sites of the running attempt that have a speaker
    if (r.state == JobState::kRunning) {
      for (const std::string& n : r.nodes) {
        if (const NodeInfo* info = nodes_->Find(n); info != nullptr && speakers_.contains(info->site)) {
          home.insert(info->site);
        }
      }
    }
    std::set<std::string> interest = home;
    int64_t newest = -1;
    std::set<std::string> holders;
    for (const auto& [site, h] : r.checkpoints) {
      if (!speakers_.contains(site)) continue;  // not reachable now
      interest.insert(site);
      if (h.step > newest) holders.clear();
      if (h.step >= newest) {
        newest = h.step;
        holders.insert(site);
      }
    }
    if (newest >= 0) {
      auto lacks = [&](const std::string& s) {
        auto c = r.checkpoints.find(s);
        return c == r.checkpoints.end() || c->second.step < newest;
      };
      const int want = r.spec.spec.checkpoint.replica_sites;
      if (want > 1) {
        std::set<std::string> chosen = holders;
        chosen.insert(home.begin(), home.end());
        std::vector<std::tuple<int, Duration, std::string>> candidates;
        std::vector<std::string> outside;
        for (const auto& [site, node] : speakers_) {
          if (chosen.contains(site)) continue;
          if (!JurisdictionAllowed(r.spec.spec.jurisdictions, nodes_->Find(node)->jurisdiction)) {
            outside.push_back(site);
            continue;
          }
          Duration near = Duration::Infinite();
          for (const std::string& c : chosen) near = std::min(near, RoundTrip(site, c));
          candidates.emplace_back(r.checkpoints.contains(site) ? 0 : 1, near, site);
        }
        std::sort(candidates.begin(), candidates.end());
        for (const auto& c : candidates) {
          if (static_cast<int>(chosen.size()) >= want) break;
          chosen.insert(std::get<2>(c));
        }
        if (static_cast<int>(chosen.size()) < want) {
          for (const std::string& site : outside) {
            if (!refused_noted_.insert({r.id, site}).second) continue;
            ++counters_.copies_refused;
            SG_RETURN_IF_ERROR(
                Audit(now, "checkpoint-copy-refused", r.id,
                      fmt::format("no copy of step {} to site {}: its jurisdiction {} is outside the job's [{}] ({} of "
                                  "{} replica sites kept)",
                                  newest, site, nodes_->Find(speakers_.at(site))->jurisdiction,
                                  fmt::join(r.spec.spec.jurisdictions, ", "), chosen.size(), want)));
          }
        }
        for (const std::string& t : chosen) {
          if (!lacks(t)) continue;
          // One copy per `replicas.every` at most: a replica refreshed
          // more recently waits (an arrived copy records when it came).
          const Duration every = r.spec.spec.checkpoint.replica_every;
          if (auto h = r.checkpoints.find(t); every > Duration::Zero() && h != r.checkpoints.end() &&
                                              now - h->second.seen < every && !copies_.contains({r.id, t})) {
            interest.insert(t);
            continue;
          }
          AddPull(r, t, Nearest(t, holders), newest, false, now);
          planned.insert({r.id, t});
          interest.insert(t);
        }
      }
      if (r.state == JobState::kRunning && !r.stopping) {
        for (const std::string& h : home) {
          if (!lacks(h)) continue;
          AddPull(r, h, Nearest(h, holders), newest, true, now);
          planned.insert({r.id, h});
        }
      }
    }
    for (const std::string& s : interest) {
      if (const NodeInfo* sp = Speaker(s)) lists_[s].watch.push_back({r.id, JobCheckpointDir(sp->checkpoint_root, r)});
    }
  }
  // A copy no longer wanted is dropped unless it ended (shown until the
  // job does); a staging wait past its limit is audited once.
  for (auto it = copies_.begin(); it != copies_.end();) {
    CheckpointCopyState& c = it->second;
    const bool ended = c.state == State::kDone || c.state == State::kRefused;
    if (!live_ids.contains(it->first.first) || (!ended && !planned.contains(it->first))) {
      it = copies_.erase(it);
      continue;
    }
    if (c.staging && !ended && now - c.since >= kStagingTimeout && c.ended == Time()) {
      c.ended = now;
      SG_RETURN_IF_ERROR(Audit(now, "checkpoint-staging-timeout", it->first.first,
                               fmt::format("ranks at site {} start without checkpoint step {} after {} s of staging "
                                           "({}): from the newest the site holds",
                                           c.site, c.step, (now - c.since).millis() / 1000, c.error)));
    }
    ++it;
  }
  std::erase_if(refused_noted_, [&](const Key& k) { return !live_ids.contains(k.first); });
  std::erase_if(gave_up_noted_, [&](const auto& k) { return !live_ids.contains(k.first); });
  std::erase_if(failures_noted_, [&](const auto& k) { return !live_ids.contains(std::get<0>(k)); });
  return Status();
}

Status CheckpointReplicator::OnHeartbeat(const std::string& node, const std::vector<CheckpointHeld>& held,
                                         const std::vector<CheckpointCopyReport>& copies, Time now,
                                         HeartbeatResult* out) {
  const NodeInfo* info = nodes_->Find(node);
  if (info == nullptr) return Status();
  const std::string& site = info->site;
  auto sp = speakers_.find(site);
  if (sp == speakers_.end() || sp->second != node) return Status();  // another agent speaks for the site
  auto l = lists_.find(site);
  if (l == lists_.end()) return Status();
  std::map<uint64_t, JobRecord> changed;
  auto record = [&](uint64_t id) -> JobRecord* {
    if (auto c = changed.find(id); c != changed.end()) return &c->second;
    const JobRecord* r = jobs_->Peek(id);
    return r == nullptr ? nullptr : &changed.emplace(id, *r).first->second;
  };
  std::set<uint64_t> dirty;
  std::set<uint64_t> watched;
  for (const CheckpointWatch& w : l->second.watch) watched.insert(w.job);
  for (const CheckpointHeld& h : held) {
    if (!watched.contains(h.job)) continue;  // reports only of what it was asked
    JobRecord* r = record(h.job);
    if (r == nullptr) continue;
    SiteCheckpoint& c = r->checkpoints[site];
    if (c.step == h.step && c.bytes == h.bytes && c.seen != Time()) continue;
    c = SiteCheckpoint{h.step, h.bytes, c.step == h.step && c.seen != Time() ? c.seen : now};
    dirty.insert(h.job);
  }
  for (const CheckpointCopyReport& rep : copies) {
    auto it = copies_.find({rep.job, site});
    if (it == copies_.end() || it->second.step != rep.step) continue;
    CheckpointCopyState& c = it->second;
    const State before = c.state;
    c.state = rep.state;
    c.bytes_done = std::min(rep.bytes_done, rep.bytes_total);
    c.bytes_total = rep.bytes_total;
    c.error = rep.error;
    if (rep.state == before && rep.state != State::kFailed) continue;
    if (rep.state == State::kDone) {
      c.ended = now;
      ++counters_.copies_done;
      counters_.bytes_copied += rep.bytes_total;
      const double s = std::max(1e-3, (now - c.since).seconds());
      SG_RETURN_IF_ERROR(
          Audit(now, c.staging ? "checkpoint-staged" : "checkpoint-copied", rep.job,
                fmt::format("step {} to site {} from site {}: {} in {:.1f} s ({:.1f} MB/s){}", rep.step, site, c.from,
                            Megabytes(rep.bytes_total), s, static_cast<double>(rep.bytes_total) / 1e6 / s,
                            c.staging ? "; its ranks there start now" : "")));
      if (JobRecord* r = record(rep.job)) {
        SiteCheckpoint& held_here = r->checkpoints[site];
        if (held_here.step < rep.step || held_here.seen == Time()) {
          held_here = SiteCheckpoint{rep.step, rep.bytes_total, now};
          dirty.insert(rep.job);
        }
      }
    } else if (rep.state == State::kFailed) {
      if (failures_noted_.insert({rep.job, site, rep.step}).second) {
        ++counters_.copies_failed;
        SG_RETURN_IF_ERROR(
            Audit(now, "checkpoint-copy-failed", rep.job,
                  fmt::format("step {} to site {} from site {}: {} (retried)", rep.step, site, c.from, rep.error)));
      }
    } else if (rep.state == State::kRefused) {
      c.ended = now;
      ++counters_.copies_refused;
      SG_RETURN_IF_ERROR(
          Audit(now, "checkpoint-copy-refused", rep.job,
                fmt::format("step {}: site {}'s agent refused the copy: {}", rep.step, site, rep.error)));
    }
  }
  for (uint64_t id : dirty) {
    // A conflicting write (the job changed meanwhile) drops this one: the
    // next report brings it again.
    if (StatusOr<JobRecord> st = jobs_->Update(changed.at(id));
        !st.ok() && !absl::IsAborted(st.status()) && !absl::IsFailedPrecondition(st.status())) {
      return st.status();
    }
  }
  out->watch = l->second.watch;
  out->pull = l->second.pull;
  return Status();
}

bool CheckpointReplicator::Staging(const JobRecord& r, const std::string& node, Time now) const {
  const NodeInfo* info = nodes_->Find(node);
  if (info == nullptr) return false;
  auto c = copies_.find({r.id, info->site});
  if (c == copies_.end() || !c->second.staging || c->second.state == State::kDone) return false;
  if (now - c->second.since >= kStagingTimeout) return false;
  auto h = r.checkpoints.find(info->site);
  return h == r.checkpoints.end() || h->second.step < c->second.step;
}

std::optional<std::string> CheckpointReplicator::HoldForCheckpoint(const JobRecord& r, Time now) {
  if (!planned_ || !r.spec.spec.checkpoint.enabled || r.checkpoints.empty()) return std::nullopt;
  const SiteCheckpoint* newest = nullptr;
  const SiteCheckpoint* newest_live = nullptr;
  std::string live_site;
  std::vector<std::string> down;
  for (const auto& [site, h] : r.checkpoints) {
    if (newest == nullptr || h.step > newest->step) newest = &h;
  }
  for (const auto& [site, h] : r.checkpoints) {
    if (speakers_.contains(site)) {
      if (newest_live == nullptr || h.step > newest_live->step) {
        newest_live = &h;
        live_site = site;
      }
    } else if (h.step == newest->step) {
      down.push_back(site);
    }
  }
  if (newest_live != nullptr && newest_live->step >= newest->step) return std::nullopt;
  // auto: as long as the work at stake, the time between the newest
  // checkpoint and the one it would restart from (or its submission).
  const CheckpointPolicy& cp = r.spec.spec.checkpoint;
  const Duration at_stake = newest->seen - (newest_live != nullptr ? newest_live->seen : r.submitted);
  const Duration wait = cp.site_wait >= Duration::Zero() ? cp.site_wait : std::max(Duration::Zero(), at_stake);
  const Time since = r.queued != Time() ? r.queued : r.updated;
  const std::string elsewhere = newest_live != nullptr ? fmt::format("the newest a live site holds is step {} at {}",
                                                                     newest_live->step, live_site)
                                                       : "no live site holds one";
  if (now - since >= wait) {
    if (gave_up_noted_.insert({r.id, since.millis()}).second) {
      Audit(now, "checkpoint-site-wait-over", r.id,
            fmt::format("waited {} s for site {} (its newest checkpoint, step {}); {}: restarting from it",
                        (now - since).millis() / 1000, fmt::join(down, ", "), newest->step, elsewhere))
          .IgnoreError();
    }
    return std::nullopt;
  }
  return fmt::format(
      "waiting for site {} (down), which holds its newest checkpoint (step {}); {}; at most {} s more "
      "(checkpoint.site_wait{})",
      fmt::join(down, ", "), newest->step, elsewhere, (wait - (now - since)).millis() / 1000,
      cp.site_wait >= Duration::Zero() ? "" : ": auto, the work at stake");
}

std::optional<DataInput> CheckpointReplicator::RestoreFrom(const JobRecord& r) const {
  if (!planned_ || !r.spec.spec.checkpoint.enabled) return std::nullopt;
  int64_t step = -1;
  for (const auto& [site, h] : r.checkpoints) {
    if (speakers_.contains(site)) step = std::max(step, h.step);
  }
  if (step < 0) return std::nullopt;
  DataInput out{fmt::format("checkpoint step {}", step), 0, {}};
  for (const auto& [site, h] : r.checkpoints) {
    if (!speakers_.contains(site) || h.step != step) continue;
    out.bytes = std::max(out.bytes, static_cast<double>(h.bytes));
    out.sites.push_back(site);
  }
  return out;
}

std::vector<CheckpointCopyState> CheckpointReplicator::CopiesOf(uint64_t id) const {
  std::vector<CheckpointCopyState> out;
  for (auto it = copies_.lower_bound({id, ""}); it != copies_.end() && it->first.first == id; ++it) {
    out.push_back(it->second);
  }
  return out;
}

int CheckpointReplicator::InFlight() const {
  return static_cast<int>(std::count_if(copies_.begin(), copies_.end(), [](const auto& c) {
    return c.second.state == State::kCopying || c.second.state == State::kFailed;
  }));
}

std::optional<std::string> CheckpointReplicator::NeverReplicates(const JobSpec& spec) const {
  const int want = spec.checkpoint.replica_sites;
  if (!spec.checkpoint.enabled || want <= 1 || nodes_->nodes().empty()) return std::nullopt;
  std::map<std::string, std::string> inside, outside;  // site -> jurisdiction
  for (const auto& [name, n] : nodes_->nodes()) {
    if (!n.moves_checkpoints) continue;
    (JurisdictionAllowed(spec.jurisdictions, n.jurisdiction) ? inside : outside).emplace(n.site, n.jurisdiction);
  }
  if (static_cast<int>(inside.size()) >= want) return std::nullopt;
  std::vector<std::string> in, out;
  for (const auto& [site, j] : inside) in.push_back(site);
  for (const auto& [site, j] : outside) {
    if (!inside.contains(site)) out.push_back(fmt::format("{} ({})", site, j));
  }
  std::string why = fmt::format(
      "checkpoint.replicas wants {} sites{}, but the checkpoint stores registered{} are at "
      "{} site(s){}",
      want, spec.jurisdictions.empty() ? "" : fmt::format(" inside [{}]", fmt::join(spec.jurisdictions, ", ")),
      spec.jurisdictions.empty() ? "" : " there", in.size(),
      in.empty() ? "" : fmt::format(" ({})", fmt::join(in, ", ")));
  if (!out.empty()) why += fmt::format("; outside them: {}", fmt::join(out, ", "));
  return why;
}

}  // namespace stargate::control
