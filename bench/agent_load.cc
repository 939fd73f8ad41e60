// Emulated agents for the control plane's load benchmark (issue 4):
// registers N fake nodes with a running `stargate server`, then sends each
// one's heartbeat once a second (spread evenly over the second) for S
// seconds, from T threads, and prints what it achieved: heartbeats/s,
// RPC latency p50/p99, failures. bench/agent_load.sh measures the
// server's CPU while this runs.
//   agent_load --server 127.0.0.1:8471 --agents 10000 --seconds 20 --threads 4
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
  int agents = 10000, seconds = 20, threads = 4;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string k = argv[i], v = argv[i + 1];
    if (k == "--server") server = v;
    if (k == "--agents") agents = std::atoi(v.c_str());
    if (k == "--seconds") seconds = std::atoi(v.c_str());
    if (k == "--threads") threads = std::max(1, std::atoi(v.c_str()));
  }
  std::vector<std::unique_ptr<pb::AgentService::Stub>> stubs;
  for (int t = 0; t < threads; ++t) {
    grpc::ChannelArguments args;
    args.SetInt("grpc.channel_id", t);  // one connection per thread
    stubs.push_back(
        pb::AgentService::NewStub(grpc::CreateCustomChannel(server, grpc::InsecureChannelCredentials(), args)));
  }
  // Register every node.
  for (int i = 0; i < agents; ++i) {
    pb::RegisterRequest req;
    req.set_node_name("load-" + std::to_string(i));
    req.set_site("load-site-" + std::to_string(i % 10));
    req.set_region("load");
    req.set_jurisdiction("US");
    req.set_address("127.0.0.1");
    req.set_accelerator("CPU");
    req.set_accelerators(1);
    req.set_agent_id("load-agent-" + std::to_string(i));  // the node's holder: required
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
    pb::RegisterReply reply;
    const grpc::Status st = stubs[i % threads]->Register(&ctx, req, &reply);
    if (!st.ok()) {
      std::fprintf(stderr, "register load-%d: %s\n", i, st.error_message().c_str());
      return 1;
    }
  }
  std::atomic<int64_t> sent{0}, failed{0};
  std::vector<std::vector<double>> latency_us(threads);
  const auto start = Clock::now();
  const auto end = start + std::chrono::seconds(seconds);
  std::vector<std::thread> workers;
  for (int t = 0; t < threads; ++t) {
    workers.emplace_back([&, t] {
      // This thread's nodes: t, t + T, ...; node k beats at offset k/agents of each second.
      int64_t round = 0;
      while (Clock::now() < end) {
        for (int i = t; i < agents && Clock::now() < end; i += threads) {
          const auto due = start + std::chrono::microseconds(round * 1'000'000 + int64_t{i} * 1'000'000 / agents);
          std::this_thread::sleep_until(due);
          pb::HeartbeatRequest req;
          req.set_node_name("load-" + std::to_string(i));
          req.set_cpu_utilisation(0.1);
          req.set_agent_id("load-agent-" + std::to_string(i));
          grpc::ClientContext ctx;
          ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(5));
          pb::HeartbeatReply reply;
          const auto t0 = Clock::now();
          const grpc::Status st = stubs[t]->Heartbeat(&ctx, req, &reply);
          latency_us[t].push_back(std::chrono::duration<double, std::micro>(Clock::now() - t0).count());
          ++sent;
          if (!st.ok() || reply.register_again()) ++failed;
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
  std::printf("agents %d, %.1f s: %lld heartbeats (%.0f/s), %lld failed, latency p50 %.0f us, p99 %.0f us\n", agents,
              elapsed, static_cast<long long>(sent.load()), sent.load() / elapsed,
              static_cast<long long>(failed.load()), pct(0.5), pct(0.99));
  return failed.load() == 0 ? 0 : 1;
}
