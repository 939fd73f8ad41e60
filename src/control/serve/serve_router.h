// File: serve_router.h
// The front door of a served model (`stargate serve`): an HTTP reverse
// proxy that sends each request to the replica expected to answer soonest
// (sched/replica_choice.h: network round trip from the caller's region +
// queue x service time), retries a request whose replica failed it on the
// next best one, and stops routing to a replica at its first failed
// forward (the controller's health checks let it back in).
//
// The caller's region comes from the X-Stargate-Region header, else the
// router's own. Answers carry X-Stargate-Replica (who served). The router's
// own routes live under /_stargate/ (replicas, metrics). Requests are
// retried whole, so a POST a dying replica had already begun may run twice:
// fine for inference, which has no side effects. Thread-safe.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "core/clock.h"
#include "core/status.h"
#include "core/units.h"

namespace stargate::control {

struct ReplicaEndpoint {
  std::string name;  // its job's name (NAME-rN)
  std::string host;
  int port = 0;
  std::string site;
  // Round trip between users in a region and this replica's site (fibre
  // estimate from the sites' coordinates); regions missing here use
  // `probe_rtt`, the router's own measured round trip to the replica.
  std::map<std::string, Duration> network_by_region;
  Duration probe_rtt;
  bool routable = false;  // placed, running and passing health checks
  // When it last passed a health check (the epoch: never): a replica that
  // failed a forward later than that gets no traffic.
  Time healthy_at;
};

struct RouterOptions {
  std::string region;  // where requests without X-Stargate-Region come from
  Duration forward_timeout = Duration::Seconds(60);
  // A request that finds no routable replica waits this long for one (a
  // replica being replaced) before it is answered 503.
  Duration wait_for_replica = Duration::Seconds(5);
  int max_attempts = 3;  // replicas one request may try
  // Client connections served at once (an idle kept-alive one holds its
  // thread up to 5 s); more wait for a free thread.
  int threads = 128;
};

struct ReplicaStats {
  std::string name;
  bool routable = false;
  int inflight = 0;
  uint64_t served = 0;  // answered (any HTTP status)
  uint64_t failed = 0;  // forwards that got no answer
  Duration service;     // EWMA of the time it took to answer
};

class ServeRouter {
 public:
  // `clock` must outlive the router.
  ServeRouter(RouterOptions options, Clock* clock);
  ~ServeRouter();

  StatusOr<int> Bind(const std::string& host, int port);  // port 0 = any free one
  Status Serve();                                         // blocks until Stop()
  // Whether Serve() is accepting; Stop() before that has no effect, so a
  // caller that may stop early waits for this first.
  bool running() const;
  void Stop();

  // The controller's view of the replicas. Counters and measurements carry
  // over for names that stay; a replica that failed a forward stays out
  // until a health check after that failure passes.
  void SetReplicas(std::vector<ReplicaEndpoint> replicas);

  std::vector<ReplicaStats> Stats() const;
  // Requests in flight, averaged over time since the last call (for the
  // autoscaler), and the requests answered and given up since the start.
  double TakeMeanInflight();
  uint64_t answered() const;
  uint64_t given_up() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace stargate::control
