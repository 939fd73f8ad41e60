// Emulated agents for the control plane's load benchmark (issues 4 and
// 20): registers N fake nodes with a running `stargate server` (from T
// threads at once), then sends each one's heartbeat once a period (spread
// evenly over it) for S seconds, and prints what it achieved:
// heartbeats/s, RPC latency p50/p99, failures, and the emulated tasks run.
// Each node runs the tasks a reply hands it for --task-periods periods
// (default 1; 0 = until the server says stop): the beat after that
// reports them ended with exit 0, so submitted jobs flow through the
// emulated nodes. A task the server stops (a cancel, a preemption's
// warning) ends at the node's next beat with exit 143, as a rank that
// writes its checkpoint on SIGTERM and exits. Nodes are spread over
// --sites sites (default 10), all in region "load", or with
// --site-regions 1 each site in its own region "load-r<site>" (so a job's
// region constraint can name any one site: bench/sites_server.sh).
// bench/agent_load.sh measures the server's
// CPU while this runs; bench/preempt_scale.sh times a preemption.
//   agent_load --server 127.0.0.1:8471 --agents 10000 --seconds 20 --threads 4 --period-ms 1000
#include <grpcpp/grpcpp.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>
#include <vector>

#include "proto/agent.grpc.pb.h"

namespace pb = stargate::agent::v1;
using Clock = std::chrono::steady_clock;

int main(int argc, char** argv) {
  std::string server = "127.0.0.1:8471";
  int agents = 10000, seconds = 20, threads = 4, task_periods = 1, sites = 10, site_regions = 0;
  int64_t period_us = 1'000'000;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string k = argv[i], v = argv[i + 1];
    if (k == "--server") server = v;
    if (k == "--agents") agents = std::atoi(v.c_str());
    if (k == "--seconds") seconds = std::atoi(v.c_str());
    if (k == "--threads") threads = std::max(1, std::atoi(v.c_str()));
    if (k == "--period-ms") period_us = std::max<int64_t>(1, std::atoll(v.c_str())) * 1000;
    if (k == "--task-periods") task_periods = std::max(0, std::atoi(v.c_str()));
    if (k == "--sites") sites = std::max(1, std::atoi(v.c_str()));
    if (k == "--site-regions") site_regions = std::atoi(v.c_str());
  }
  std::vector<std::unique_ptr<pb::AgentService::Stub>> stubs;
  for (int t = 0; t < threads; ++t) {
    grpc::ChannelArguments args;
    args.SetInt("grpc.channel_id", t);  // one connection per thread
    stubs.push_back(
        pb::AgentService::NewStub(grpc::CreateCustomChannel(server, grpc::InsecureChannelCredentials(), args)));
  }
  // Register every node, each thread its share (t, t + T, ...) at once:
  // the server's group commit serves concurrent registrations together.
  std::atomic<int> register_failed{0};
  {
    std::vector<std::thread> registrars;
    for (int t = 0; t < threads; ++t) {
      registrars.emplace_back([&, t] {
        for (int i = t; i < agents && register_failed.load() == 0; i += threads) {
          pb::RegisterRequest req;
          req.set_node_name("load-" + std::to_string(i));
          req.set_site("load-site-" + std::to_string(i % sites));
          req.set_region(site_regions != 0 ? "load-r" + std::to_string(i % sites) : "load");
          req.set_jurisdiction("US");
          req.set_address("127.0.0.1");
          req.set_accelerator("CPU");
          req.set_accelerators(1);
          req.set_agent_id("load-agent-" + std::to_string(i));  // the node's holder: required
          grpc::ClientContext ctx;
          ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
          pb::RegisterReply reply;
          const grpc::Status st = stubs[t]->Register(&ctx, req, &reply);
          if (!st.ok()) {
            std::fprintf(stderr, "register load-%d: %s\n", i, st.error_message().c_str());
            ++register_failed;
          }
        }
      });
    }
    for (auto& r : registrars) r.join();
    if (register_failed.load() != 0) return 1;
  }
  std::atomic<int64_t> sent{0}, failed{0}, tasks_run{0};
  // Per node: the tasks it was handed, reported ended at its next beat
  // and until the server says to forget them.
  struct Task {
    pb::TaskStatus status;
    int beats = 0;         // beats sent since it started
    bool stopped = false;  // the server said stop
  };
  std::vector<std::vector<Task>> running(agents);
  std::vector<std::vector<double>> latency_us(threads);
  const auto start = Clock::now();
  const auto end = start + std::chrono::seconds(seconds);
  std::vector<std::thread> workers;
  for (int t = 0; t < threads; ++t) {
    workers.emplace_back([&, t] {
      // This thread's nodes: t, t + T, ...; node k beats at offset k/agents of each period.
      int64_t round = 0;
      while (Clock::now() < end) {
        for (int i = t; i < agents && Clock::now() < end; i += threads) {
          const auto due = start + std::chrono::microseconds(round * period_us + int64_t{i} * period_us / agents);
          std::this_thread::sleep_until(due);
          pb::HeartbeatRequest req;
          req.set_node_name("load-" + std::to_string(i));
          req.set_cpu_utilisation(0.1);
          req.set_agent_id("load-agent-" + std::to_string(i));
          for (Task& task : running[i]) {
            ++task.beats;
            if (task.stopped) {  // SIGTERM: checkpoint, exit 143
              task.status.set_running(false);
              task.status.set_exit_code(143);
            } else if (task_periods > 0 && task.beats >= task_periods) {
              task.status.set_running(false);  // its periods are over: done
            }
            *req.add_tasks() = task.status;
          }
          grpc::ClientContext ctx;
          ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(5));
          pb::HeartbeatReply reply;
          const auto t0 = Clock::now();
          const grpc::Status st = stubs[t]->Heartbeat(&ctx, req, &reply);
          latency_us[t].push_back(std::chrono::duration<double, std::micro>(Clock::now() - t0).count());
          ++sent;
          if (!st.ok() || reply.register_again()) ++failed;
          auto same = [](const pb::TaskStatus& t, const auto& ref) {
            return t.job_id() == ref.job_id() && t.attempt() == ref.attempt();
          };
          for (const pb::TaskRef& f : reply.forget()) {
            std::erase_if(running[i], [&](const Task& task) { return same(task.status, f); });
          }
          auto stop = [&](const pb::TaskRef& ref) {
            for (Task& task : running[i]) task.stopped = task.stopped || same(task.status, ref);
          };
          for (const pb::TaskRef& ref : reply.stop()) stop(ref);
          for (const pb::StopGrace& g : reply.stop_grace()) stop(g.task());
          for (const pb::Task& task : reply.run()) {
            const bool known =
                std::any_of(running[i].begin(), running[i].end(), [&](const Task& r) { return same(r.status, task); });
            if (known) continue;
            Task t;
            t.status.set_job_id(task.job_id());
            t.status.set_attempt(task.attempt());
            t.status.set_running(true);
            running[i].push_back(std::move(t));
            ++tasks_run;
          }
        }
        ++round;
      }
    });
  }
  for (auto& w : workers) w.join();
  const double elapsed = std::chrono::duration<double>(Clock::now() - start).count();
  std::vector<double> all;
  for (auto& v : latency_us) all.insert(all.end(), v.begin(), v.end());
  std::sort(all.begin(), all.end());
  auto pct = [&](double q) {
    return all.empty() ? 0.0 : all[std::min(all.size() - 1, static_cast<size_t>(q * all.size()))];
  };
  std::printf(
      "agents %d, a beat every %.1f s, %.1f s: %lld heartbeats (%.0f/s), %lld failed, latency p50 %.0f us, p99 %.0f "
      "us, %lld tasks run\n",
      agents, static_cast<double>(period_us) / 1e6, elapsed, static_cast<long long>(sent.load()), sent.load() / elapsed,
      static_cast<long long>(failed.load()), pct(0.5), pct(0.99), static_cast<long long>(tasks_run.load()));
  return failed.load() == 0 ? 0 : 1;
}
