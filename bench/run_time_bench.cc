// Learned run-time estimates on a replayed workload (issue 19): what
// users' estimates, a classic predictor and the server's run-time model
// (control/server/run_time_model.h) each say a job will take, against what
// it took. Prints a markdown table for bench/RESULTS.md.
//
// The workload is synthetic (no public job log with user estimates ships
// in ../shared/data), shaped as the literature describes real ones:
// recurring jobs (the same user and name, run again and again; a few
// popular), run times spread over minutes to days, users' estimates
// modal at round values and generous (Mu'alem and Feitelson, IEEE TPDS
// 12(6), 2001; Tsafrir, Etsion and Feitelson, IEEE TPDS 18(6), 2007:
// most jobs use a small share of their estimate), some users giving none,
// a few job groups that often crash at start, and a drift halfway (a
// fifth of the groups take twice as long: a new dataset).
//
// Estimators, each asked at submit for every job, before it runs; jobs
// end in submit order and every one is observed as it ends:
//   file      the job file's estimate (jobs that give one)
//   last-two  Tsafrir et al.'s predictor: the mean of the same tenant and
//             name's last two runs, else the file's estimate, else 1 h
//   group     the median of the group's runs (the model's fallback alone)
//   model     RunTimeModel: boosted trees once 40 runs, trained every 32
// Usage: run_time_bench [JOBS] [SEED]   (defaults: 20000 1)
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <deque>
#include <map>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "control/server/run_time_model.h"
#include "core/rng.h"

namespace stargate {
namespace {

using control::RunFeatures;
using control::RunTimeModel;

struct Group {
  std::string tenant, name;
  double minutes = 30;  // its typical run
  double crash = 0.02;  // chance an attempt crashes at start
  int devices = 8;
  int habit = 0;  // its tenant's: 0 generous, 1 none (auto), 2 careful
  std::vector<uint64_t> commands;
  std::vector<double> command_factor;
};

double Normal(Rng& rng) {  // Box-Muller
  const double u1 = std::max(1e-12, rng.Uniform()), u2 = rng.Uniform();
  return std::sqrt(-2 * std::log(u1)) * std::cos(2 * M_PI * u2);
}

// The round value a user picks at or above `minutes` (30 min steps under
// 2 h, then 4, 8, 12, 24, 48, 72 h).
double RoundUp(double minutes) {
  for (double r : {30.0, 60.0, 90.0, 120.0, 240.0, 480.0, 720.0, 1440.0, 2880.0, 4320.0}) {
    if (minutes <= r) return r;
  }
  return 4320;
}

struct Errors {
  std::vector<double> log_err, abs_h;
  int under = 0;  // predicted shorter than it ran (a backfill hole overrun)
  void Add(double predicted_s, double took_s) {
    log_err.push_back(std::abs(std::log(predicted_s / took_s)));
    abs_h.push_back(std::abs(predicted_s - took_s) / 3600);
    if (predicted_s < took_s) ++under;
  }
};

double Quantile(std::vector<double> v, double q) {
  if (v.empty()) return NAN;
  std::sort(v.begin(), v.end());
  return v[std::min(v.size() - 1, static_cast<size_t>(q * static_cast<double>(v.size())))];
}
double Mean(const std::vector<double>& v) {
  double s = 0;
  for (double x : v) s += x;
  return v.empty() ? NAN : s / static_cast<double>(v.size());
}

int Main(int argc, char** argv) {
  const int jobs = argc > 1 ? std::atoi(argv[1]) : 20000;
  const uint64_t seed = argc > 2 ? std::strtoull(argv[2], nullptr, 10) : 1;
  Rng rng(seed);
  std::vector<Group> groups;
  for (int t = 0; t < 8; ++t) {
    const int habit = t < 4 ? 0 : t < 6 ? 1 : 2;
    for (int g = 0; g < 30; ++g) {
      Group x;
      x.tenant = fmt::format("tenant{}", t);
      x.name = fmt::format("job{}", g);
      x.minutes = std::clamp(30 * std::exp(1.2 * Normal(rng)), 2.0, 48 * 60.0);
      x.crash = rng.Uniform() < 0.1 ? 0.3 : 0.02;
      x.devices = 8 << rng.Below(4);
      x.habit = habit;
      const int variants = 1 + static_cast<int>(rng.Below(3));
      for (int v = 0; v < variants; ++v) {
        x.commands.push_back(rng.Next());
        x.command_factor.push_back(v == 0 ? 1.0 : 0.5 + 1.5 * rng.Uniform());
      }
      groups.push_back(std::move(x));
    }
  }
  // Popularity: a few groups run often (weights 1/rank, ranks shuffled
  // over tenants).
  for (size_t i = groups.size() - 1; i > 0; --i) std::swap(groups[i], groups[rng.Below(i + 1)]);
  std::vector<double> cdf;
  double total = 0;
  for (size_t i = 0; i < groups.size(); ++i) cdf.push_back(total += 1.0 / static_cast<double>(i + 1));
  RunTimeModel model;
  RunTimeModel::Trainer trainer;
  std::map<std::pair<std::string, std::string>, std::deque<double>> last_two;
  std::map<std::pair<std::string, std::string>, std::vector<double>> group_runs;
  Errors file, tsafrir, group_med, learned, learned_auto, learned_given;
  double train_s = 0, predict_s = 0;
  int trainings = 0, predictions = 0;
  std::vector<double> p_crashed, p_ran;  // the model's fail-early chance, by outcome
  double brier_model = 0, brier_base = 0, brier_group = 0;
  std::map<std::pair<std::string, std::string>, std::pair<int, int>> group_ends;  // crashes, ends
  int crashes = 0, ends = 0;
  const int warmup = jobs / 20;  // scored after the first 5%
  for (int i = 0; i < jobs; ++i) {
    if (i == jobs / 2) {  // drift: a fifth of the groups take twice as long
      for (size_t g = 0; g < groups.size(); g += 5) groups[g].minutes *= 2;
    }
    const size_t gi =
        static_cast<size_t>(std::lower_bound(cdf.begin(), cdf.end(), rng.Uniform() * total) - cdf.begin());
    const Group& g = groups[std::min(gi, groups.size() - 1)];
    const size_t v = rng.Below(g.commands.size());
    const double took_s = 60 * g.minutes * g.command_factor[v] * std::exp(0.25 * Normal(rng));
    const bool crashed = rng.Uniform() < g.crash;
    RunFeatures f;
    f.tenant = g.tenant;
    f.name = g.name;
    f.command = g.commands[v];
    f.kind = JobKind::kBatch;
    f.devices = g.devices;
    f.accelerator = AcceleratorType::kH100;
    const double typical = g.minutes * g.command_factor[v];
    if (g.habit == 0) f.given = Duration::Minutes(static_cast<int64_t>(RoundUp(typical * (2 + 4 * rng.Uniform()))));
    if (g.habit == 2) f.given = Duration::Minutes(static_cast<int64_t>(RoundUp(typical * (1.1 + 0.4 * rng.Uniform()))));
    const auto key = std::make_pair(g.tenant, g.name);
    const auto t0 = std::chrono::steady_clock::now();
    const control::RunPrediction p = model.Predict(f);
    predict_s += std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    ++predictions;
    if (i >= warmup) {
      if (!crashed) {
        if (f.given > Duration::Zero()) file.Add(f.given.seconds(), took_s);
        const std::deque<double>& two = last_two[key];
        tsafrir.Add(two.size() == 2              ? (two[0] + two[1]) / 2
                    : f.given > Duration::Zero() ? f.given.seconds()
                                                 : 3600.0,
                    took_s);
        std::vector<double> runs = group_runs[key];
        group_med.Add(runs.size() >= 3             ? Quantile(runs, 0.5)
                      : f.given > Duration::Zero() ? f.given.seconds()
                                                   : 3600.0,
                      took_s);
        learned.Add(p.run_time.seconds(), took_s);
        (f.given > Duration::Zero() ? learned_given : learned_auto).Add(p.run_time.seconds(), took_s);
      }
      (crashed ? p_crashed : p_ran).push_back(p.fail_early);
      brier_model += std::pow(p.fail_early - (crashed ? 1 : 0), 2);
      brier_base += std::pow(static_cast<double>(crashes) / std::max(1, ends) - (crashed ? 1 : 0), 2);
      const auto [gc, ge] = group_ends[key];
      const double group_rate =
          ge >= 3 ? static_cast<double>(gc) / ge : static_cast<double>(crashes) / std::max(1, ends);
      brier_group += std::pow(group_rate - (crashed ? 1 : 0), 2);
    }
    // It ends: observed, and the model trained when a batch is due.
    if (crashed) {
      model.Observe(f, Duration::FromSeconds(30 + 450 * rng.Uniform()), false);
      ++crashes;
    } else {
      model.Observe(f, Duration::FromSeconds(took_s), true);
      std::deque<double>& two = last_two[key];
      two.push_back(took_s);
      if (two.size() > 2) two.pop_front();
      std::vector<double>& runs = group_runs[key];
      runs.push_back(took_s);
      if (runs.size() > RunTimeModel::kKeep) runs.erase(runs.begin());
    }
    ++ends;
    group_ends[key].first += crashed ? 1 : 0;
    ++group_ends[key].second;
    if (std::optional<RunTimeModel::Batch> b = model.TakeBatch()) {
      const auto t1 = std::chrono::steady_clock::now();
      StatusOr<RunTimeModel::Trained> t = trainer.Train(*b);
      train_s += std::chrono::duration<double>(std::chrono::steady_clock::now() - t1).count();
      if (!t.ok()) {
        fmt::print(stderr, "training: {}\n", t.status().ToString());
        return 1;
      }
      model.Publish(std::move(t).value());
      ++trainings;
    }
  }
  fmt::print("run_time_bench: {} jobs (seed {}), scored after the first {}; {} successful runs scored\n\n", jobs, seed,
             warmup, learned.log_err.size());
  fmt::print(
      "| estimator | jobs | median abs error (h) | mean abs error (h) | median abs ln(pred/actual) | "
      "within 25% | under-estimates |\n|---|---|---|---|---|---|---|\n");
  auto row = [](const char* name, const Errors& e) {
    const double within = static_cast<double>(std::count_if(e.log_err.begin(), e.log_err.end(),
                                                            [](double x) { return x <= std::log(1.25); })) /
                          static_cast<double>(e.log_err.size());
    fmt::print("| {} | {} | {:.2f} | {:.2f} | {:.2f} | {:.0f}% | {:.0f}% |\n", name, e.log_err.size(),
               Quantile(e.abs_h, 0.5), Mean(e.abs_h), Quantile(e.log_err, 0.5), 100 * within,
               100.0 * e.under / static_cast<double>(e.log_err.size()));
  };
  row("the job file's estimate (jobs that give one)", file);
  row("last two runs (Tsafrir et al. 2007)", tsafrir);
  row("group median (the model's fallback)", group_med);
  row("run-time model (xgboost)", learned);
  row("run-time model, jobs that give an estimate", learned_given);
  row("run-time model, `estimate: auto` jobs", learned_auto);
  fmt::print(
      "\nfailing early: mean predicted chance {:.3f} for attempts that crashed ({}), {:.3f} for the rest "
      "({}); Brier score {:.4f} (the group's rate so far: {:.4f}; everyone's: {:.4f})\n",
      Mean(p_crashed), p_crashed.size(), Mean(p_ran), p_ran.size(),
      brier_model / static_cast<double>(p_crashed.size() + p_ran.size()),
      brier_group / static_cast<double>(p_crashed.size() + p_ran.size()),
      brier_base / static_cast<double>(p_crashed.size() + p_ran.size()));
  fmt::print("cost: {} trainings, {:.1f} ms each (off the lock); {:.1f} us per prediction (under it)\n", trainings,
             1e3 * train_s / std::max(1, trainings), 1e6 * predict_s / std::max(1, predictions));
  return 0;
}

}  // namespace
}  // namespace stargate

int main(int argc, char** argv) { return stargate::Main(argc, argv); }
