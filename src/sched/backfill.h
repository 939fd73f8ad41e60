// File: backfill.h
// EASY backfill (Lifka 1995, "The ANL/IBM SP scheduling system"; Mu'alem &
// Feitelson 2001): the first job that cannot start gets a reservation at
// the earliest time enough devices come back in a pool it accepts. Later
// jobs may start now in that pool only if they end by then or fit in the
// devices the reservation leaves over; other pools are unaffected.
//
// Counting is by devices, not node shapes, and uses the drivers' expected
// ends (ClusterState::running); like every production backfill it is an
// estimate, and a wrong one delays the head, it never overcommits.
#pragma once

#include <vector>

#include "sched/claims.h"
#include "sched/cluster_state.h"
#include "sched/job_request.h"

namespace stargate::sched {

struct Reservation {
  bool valid = false;
  PoolId pool;
  Time shadow;        // when the head is expected to be able to start
  int64_t extra = 0;  // devices free at `shadow` beyond the head's need

  // May a job of `devices` devices and `runtime_s` start now in pool `p`?
  bool Allows(PoolId p, Time now, double runtime_s, int64_t devices) const;
  // Books a job Allows() let in: one that outlives the shadow uses up extra.
  void Take(PoolId p, Time now, double runtime_s, int64_t devices);
};

// Earliest time `need` devices are free in pool `p` with its hot spares
// kept, from the drivers' expected ends (ClusterState::running), counting
// this pass's claims as gone for good: `now` if they are free already;
// Never when that is not by `limit` (or never: down nodes). `extra` gets
// the devices free at that time beyond `need`. Cost: O(log running gangs
// in the pool), one descent of its calendar tree.
Time EarliestRoom(const ClusterState& state, PoolId p, int64_t need, const Claims& claims, Time now,
                  int64_t* extra = nullptr, Time limit = Time::Never());

// The reservation for `head` among the pools it accepts (type and
// jurisdiction): the earliest shadow time wins. Invalid when no pool will
// ever have room (then the head blocks, as in FIFO).
Reservation Reserve(const ClusterState& state, const JobRequest& head, const Claims& claims, Time now);

}  // namespace stargate::sched
