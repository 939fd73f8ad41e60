#include "control/agent/checkpoint_mover.h"

#include <httplib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <condition_variable>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <optional>
#include <thread>

#include <fmt/format.h>

#include "control/agent/checkpoint_store.h"
#include "control/net/digest.h"
#include "core/job_spec.h"

namespace stargate::control {
namespace {

namespace fs = std::filesystem;
using State = CheckpointCopyReport::State;

constexpr size_t kMaxManifestBytes = 16 << 20;

// `dir` is a path under `root` (both absolute, normal).
bool Under(const std::string& root, const std::string& dir) {
  return !root.empty() && dir.starts_with(root + "/") && SafeRelative(dir.substr(root.size() + 1));
}

// A manifest's identity on disk: a new seal replaces the file (rename),
// so its inode, size and change time tell a new one from a known one.
struct ManifestStamp {
  uint64_t inode = 0;
  int64_t size = 0, ctime_ns = 0;
  auto operator<=>(const ManifestStamp&) const = default;
};

std::optional<ManifestStamp> StampOf(const fs::path& manifest) {
  struct stat st {};
  if (::stat(manifest.c_str(), &st) != 0) return std::nullopt;
  return ManifestStamp{st.st_ino, st.st_size, st.st_ctim.tv_sec * 1'000'000'000LL + st.st_ctim.tv_nsec};
}

}  // namespace

struct CheckpointMover::Impl {
  Impl(CheckpointMoverOptions o, Clock* c) : options(std::move(o)), clock(c) {}

  void Run() {
    std::unique_lock<std::mutex> lock(mu);
    while (!stop) {
      const std::vector<CheckpointWatch> w = watch;
      lock.unlock();
      std::map<uint64_t, CheckpointHeld> found = Scan(w);
      lock.lock();
      held = std::move(found);
      if (stop) break;
      std::optional<CheckpointPull> next = NextPull();
      if (next.has_value()) {
        lock.unlock();
        Copy(*next);
        lock.lock();
        continue;
      }
      clock->WaitUntil(cv, lock, clock->Now() + options.rescan);
    }
  }

  // The newest complete checkpoint of each watched area. Each checkpoint
  // is hashed once; a manifest seen before (same inode, size and change
  // time) keeps its verdict.
  std::map<uint64_t, CheckpointHeld> Scan(const std::vector<CheckpointWatch>& areas) {
    std::map<uint64_t, CheckpointHeld> out;
    std::map<std::string, Verdict> seen;
    for (const CheckpointWatch& w : areas) {
      if (!Under(options.root, w.dir)) continue;
      std::vector<std::pair<int64_t, fs::path>> steps;
      std::error_code ec;
      for (fs::directory_iterator it(w.dir, ec), end; !ec && it != end; it.increment(ec)) {
        if (auto s = StepOfDirName(it->path().filename().string()); s.has_value() && it->is_directory(ec)) {
          steps.emplace_back(*s, it->path());
        }
      }
      std::sort(steps.rbegin(), steps.rend());
      for (const auto& [step, path] : steps) {
        const std::optional<ManifestStamp> stamp = StampOf(path / kManifestName);
        if (!stamp.has_value()) continue;  // not sealed (yet)
        const std::string key = path.string();
        auto v = verdicts.find(key);
        if (v == verdicts.end() || v->second.stamp != *stamp) {
          CheckpointManifest m;
          Verdict fresh{*stamp, VerifyCheckpoint(path, &m).ok() && m.step == step, 0};
          for (const CheckpointFile& f : m.files) fresh.bytes += f.size;
          v = verdicts.insert_or_assign(key, fresh).first;
        }
        seen.insert(*v);
        if (v->second.complete) {
          out[w.job] = CheckpointHeld{w.job, step, v->second.bytes};
          break;
        }
      }
    }
    verdicts = std::move(seen);  // forget pruned ones
    return out;
  }

  // The newest listed copy not done, refused or waiting out a failure.
  std::optional<CheckpointPull> NextPull() {
    const Time now = clock->Now();
    const CheckpointPull* best = nullptr;
    for (const CheckpointPull& p : pull) {
      auto c = copies.find({p.job, p.step});
      if (c != copies.end() && (c->second.state == State::kDone || c->second.state == State::kRefused)) continue;
      if (auto r = retry_at.find({p.job, p.step}); r != retry_at.end() && now < r->second) continue;
      if (best == nullptr || p.step > best->step) best = &p;
    }
    if (best == nullptr) return std::nullopt;
    return *best;
  }

  bool Listed(uint64_t job, int64_t step) {
    std::lock_guard<std::mutex> lock(mu);
    return !stop && std::any_of(pull.begin(), pull.end(),
                                [&](const CheckpointPull& p) { return p.job == job && p.step == step; });
  }

  void Set(const CheckpointPull& p, State state, uint64_t done, uint64_t total, std::string error = "") {
    std::lock_guard<std::mutex> lock(mu);
    copies[{p.job, p.step}] = CheckpointCopyReport{p.job, p.step, state, done, total, std::move(error)};
    if (state == State::kFailed) retry_at[{p.job, p.step}] = clock->Now() + options.retry;
  }

  void Copy(const CheckpointPull& p) {
    if (!JurisdictionAllowed(p.jurisdictions, options.jurisdiction)) {
      Set(p, State::kRefused, 0, 0,
          fmt::format("node {} is in jurisdiction {}, outside the job's [{}]", options.node,
                      options.jurisdiction.empty() ? "(none)" : options.jurisdiction,
                      fmt::join(p.jurisdictions, ", ")));
      return;
    }
    if (!Under(options.root, p.dir) || p.dir[options.root.size() + 1] == '.' || p.step < 0) {
      Set(p, State::kFailed, 0, 0, fmt::format("{} is not a job area in this node's store {}", p.dir, options.root));
      return;
    }
    const fs::path final_dir = fs::path(p.dir) / CheckpointDirName(p.step);
    if (CheckpointManifest m; VerifyCheckpoint(final_dir, &m).ok()) {  // already here (a copy done before a restart)
      uint64_t total = 0;
      for (const CheckpointFile& f : m.files) total += f.size;
      Set(p, State::kDone, total, total);
      return;
    }
    uint64_t done = 0, total = 0;
    const Status st = Fetch(p, final_dir, &done, &total);
    if (!st.ok()) {
      Set(p, State::kFailed, done, total, std::string(st.message()));
      return;
    }
    Prune(p);
    Set(p, State::kDone, total, total);
  }

  httplib::Headers Auth(const CheckpointPull& p) const { return {{"Authorization", "Bearer " + p.ticket}}; }

  Status Fetch(const CheckpointPull& p, const fs::path& final_dir, uint64_t* done, uint64_t* total) {
    httplib::Client http(p.source_url);
    http.set_connection_timeout(5, 0);
    http.set_read_timeout(30, 0);
    const std::string what = fmt::format("{}{}", p.source_url, p.source_dir);
    // The manifest first: it says what to fetch and what it must hash to.
    std::string manifest_text;
    auto res = http.Get("/checkpoints/file", {{"dir", p.source_dir}, {"path", kManifestName}}, Auth(p),
                        [&](const char* data, size_t n) {
                          manifest_text.append(data, n);
                          return manifest_text.size() <= kMaxManifestBytes;
                        });
    if (!res) return absl::UnavailableError(fmt::format("{}: {}", what, httplib::to_string(res.error())));
    if (res->status != 200) return absl::UnavailableError(fmt::format("{}: HTTP {}", what, res->status));
    SG_ASSIGN_OR_RETURN(const CheckpointManifest m, ParseManifest(manifest_text, what + "/" + kManifestName));
    if (m.step != p.step) {
      return absl::DataLossError(fmt::format("{}: the manifest says step {}, not {}", what, m.step, p.step));
    }
    for (const CheckpointFile& f : m.files) *total += f.size;
    // Files land in the agent's own staging directory (never in the
    // tenant's area, where the tenant could have planted links), kept when
    // a copy is cut, so the next one resumes.
    const fs::path staging = StagingDir(p);
    std::error_code ec;
    fs::create_directories(staging, ec);
    if (ec) return absl::UnavailableError(fmt::format("cannot create {}: {}", staging.string(), ec.message()));
    ::chmod(staging.parent_path().c_str(), 0700);
    const Time start = clock->Now();
    uint64_t moved = 0;  // over the wire in this copy: what the rate limit counts
    for (const CheckpointFile& f : m.files) {
      const fs::path local = staging / f.path;
      fs::create_directories(local.parent_path(), ec);
      uint64_t have = fs::exists(local, ec) ? fs::file_size(local, ec) : 0;
      if (ec || have > f.size) {
        fs::remove(local, ec);
        have = 0;
      }
      *done += have;
      Set(p, State::kCopying, *done, *total);
      // The file is hashed as it arrives (what a cut copy left is hashed
      // first), so it is not read back after.
      auto sha = std::make_unique<Sha256Stream>();
      uint64_t size = have;
      if (have > 0) {
        SG_ASSIGN_OR_RETURN(const uint64_t hashed, HashInto(local, sha.get(), have));
        if (hashed != have) return absl::DataLossError(fmt::format("{}: shorter than it was", local.string()));
      }
      if (have < f.size) {
        std::ofstream out;
        bool ranged = false;
        auto opened = [&](const httplib::Response& r) {
          ranged = r.status == 206;
          if (r.status != 200 && !ranged) return false;
          if (!ranged) {  // the peer sent it whole: start over
            *done -= have;
            size = 0;
            sha = std::make_unique<Sha256Stream>();
          }
          out.open(local, ranged ? std::ios::binary | std::ios::app : std::ios::binary | std::ios::trunc);
          return static_cast<bool>(out);
        };
        uint64_t since_report = 0;
        auto got = [&](const char* data, size_t n) {
          out.write(data, static_cast<std::streamsize>(n));
          sha->Update(std::string_view(data, n));
          size += n;
          *done += n;
          moved += n;
          since_report += n;
          if (since_report >= (1 << 20)) {
            since_report = 0;
            if (!Listed(p.job, p.step)) return false;  // dropped by the server, or stopping
            Set(p, State::kCopying, *done, *total);
          }
          if (p.rate_bytes_per_s > 0) {  // pace to the link's share
            const Time due = start + Duration::Nanos(static_cast<int64_t>(static_cast<double>(moved) * 1e9 /
                                                                          static_cast<double>(p.rate_bytes_per_s)));
            if (due > clock->Now() + Duration::Millis(5)) clock->SleepUntil(due);
          }
          return static_cast<bool>(out);
        };
        httplib::Headers h = Auth(p);
        if (have > 0) h.emplace("Range", fmt::format("bytes={}-", have));
        auto r = http.Get("/checkpoints/file", {{"dir", p.source_dir}, {"path", f.path}}, h, opened, got);
        out.close();
        if (!r) {
          return absl::UnavailableError(fmt::format("{}/{}: {}", what, f.path, httplib::to_string(r.error())));
        }
        if (r->status != 200 && r->status != 206) {
          return absl::UnavailableError(fmt::format("{}/{}: HTTP {}", what, f.path, r->status));
        }
      }
      const std::string hex = sha->Hex();
      if (size != f.size || hex != f.sha256) {
        fs::remove(local, ec);  // copied again from the start next time
        return absl::DataLossError(fmt::format("{}/{}: {} bytes with SHA-256 {}, but the manifest says {} bytes, {}",
                                               what, f.path, size, hex.substr(0, 12), f.size, f.sha256.substr(0, 12)));
      }
      SG_RETURN_IF_ERROR(FsyncPath(local, false));
    }
    // Sealed last, atomically; then the whole directory moves into place.
    const fs::path tmp = staging / (std::string(kManifestName) + ".tmp");
    {
      std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
      out << manifest_text;
      if (!out.flush()) return absl::UnavailableError(fmt::format("cannot write {}", tmp.string()));
    }
    SG_RETURN_IF_ERROR(FsyncPath(tmp, false));
    fs::rename(tmp, staging / kManifestName, ec);
    if (ec) return absl::UnavailableError(fmt::format("cannot seal {}: {}", staging.string(), ec.message()));
    SG_RETURN_IF_ERROR(FsyncPath(staging, true));
    SG_RETURN_IF_ERROR(MakeArea(p, staging));
    if (fs::exists(final_dir, ec)) fs::remove_all(final_dir, ec);  // incomplete (a complete one returned early)
    fs::rename(staging, final_dir, ec);
    if (ec) return absl::UnavailableError(fmt::format("cannot move {} into place: {}", staging.string(), ec.message()));
    SG_RETURN_IF_ERROR(FsyncPath(p.dir, true));
    return Status();
  }

  // <root>/.stargate-staging/<job>-<step>: the agent's (0700); no tenant
  // name starts with a dot.
  fs::path StagingDir(const CheckpointPull& p) const {
    return fs::path(options.root) / ".stargate-staging" / fmt::format("{}-{}", p.job, CheckpointDirName(p.step));
  }

  // The job's area made as a task's is: with tenant users, its tenant's
  // (TenantUsers::MakePrivate refuses a planted symlink on the way), and
  // the staged copy given to the same account before it moves in.
  Status MakeArea(const CheckpointPull& p, const fs::path& staged) {
    const std::string rel = p.dir.substr(options.root.size() + 1);
    const std::string tenant = rel.substr(0, rel.find('/'));
    if (!options.owner) {
      std::error_code ec;
      fs::create_directories(p.dir, ec);
      if (ec) return absl::UnavailableError(fmt::format("cannot create {}: {}", p.dir, ec.message()));
      return Status();
    }
    SG_ASSIGN_OR_RETURN(const Account account, options.owner(tenant));
    SG_RETURN_IF_ERROR(TenantUsers::MakePrivate(options.root + "/" + tenant, p.dir, account));
    std::error_code ec;
    auto give = [&](const fs::path& f) {
      if (::lchown(f.c_str(), account.uid, account.gid) != 0) {
        return absl::UnavailableError(fmt::format("cannot give {} to {}", f.string(), account.name));
      }
      return Status();
    };
    SG_RETURN_IF_ERROR(give(staged));
    for (fs::recursive_directory_iterator it(staged, ec), end; !ec && it != end; it.increment(ec)) {
      SG_RETURN_IF_ERROR(give(it->path()));
    }
    return Status();
  }

  // Keeps the newest `keep` complete checkpoints of the area; older ones
  // (complete or not) go. Newer incomplete ones stay: a task may be
  // writing one.
  void Prune(const CheckpointPull& p) {
    std::vector<std::pair<int64_t, fs::path>> steps;
    std::error_code ec;
    for (fs::directory_iterator it(p.dir, ec), end; !ec && it != end; it.increment(ec)) {
      if (auto s = StepOfDirName(it->path().filename().string()); s.has_value()) steps.emplace_back(*s, it->path());
    }
    std::sort(steps.rbegin(), steps.rend());
    int complete = 0;
    for (const auto& [step, path] : steps) {
      if (complete >= p.keep) {
        fs::remove_all(path, ec);
      } else if (VerifyCheckpoint(path).ok()) {
        ++complete;
      }
    }
  }

  struct Verdict {
    ManifestStamp stamp;
    bool complete = false;
    uint64_t bytes = 0;
  };

  CheckpointMoverOptions options;
  Clock* clock;
  mutable std::mutex mu;
  std::condition_variable cv;
  bool stop = false;
  std::vector<CheckpointWatch> watch;
  std::vector<CheckpointPull> pull;
  std::map<uint64_t, CheckpointHeld> held;
  std::map<std::pair<uint64_t, int64_t>, CheckpointCopyReport> copies;
  std::map<std::pair<uint64_t, int64_t>, Time> retry_at;
  std::map<std::string, Verdict> verdicts;  // the worker's alone
  std::thread thread;
};

CheckpointMover::CheckpointMover(CheckpointMoverOptions options, Clock* clock)
    : impl_(std::make_unique<Impl>(std::move(options), clock)) {
  impl_->thread = std::thread([this] { impl_->Run(); });
}

CheckpointMover::~CheckpointMover() {
  {
    std::lock_guard<std::mutex> lock(impl_->mu);
    impl_->stop = true;
  }
  impl_->cv.notify_all();
  impl_->thread.join();
}

void CheckpointMover::Want(std::vector<CheckpointWatch> watch, std::vector<CheckpointPull> pull) {
  std::lock_guard<std::mutex> lock(impl_->mu);
  const bool changed = watch != impl_->watch || pull != impl_->pull;
  impl_->watch = std::move(watch);
  impl_->pull = std::move(pull);
  // Forget copies no longer listed (a later listing starts afresh).
  std::erase_if(impl_->copies, [&](const auto& c) {
    return std::none_of(impl_->pull.begin(), impl_->pull.end(),
                        [&](const CheckpointPull& p) { return p.job == c.first.first && p.step == c.first.second; });
  });
  std::erase_if(impl_->retry_at, [&](const auto& c) { return !impl_->copies.contains(c.first); });
  if (changed) impl_->cv.notify_all();
}

void CheckpointMover::Report(std::vector<CheckpointHeld>* held, std::vector<CheckpointCopyReport>* copies) const {
  std::lock_guard<std::mutex> lock(impl_->mu);
  for (const auto& [job, h] : impl_->held) held->push_back(h);
  for (const auto& [key, c] : impl_->copies) copies->push_back(c);
}

}  // namespace stargate::control
