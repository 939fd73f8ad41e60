// File: segment.h
// The arithmetic of one run segment of a job: from a (re)start on a placement
// until it finishes or is interrupted. A segment pays `restart` first, then
// computes, writing a checkpoint of cost `write` after every `interval` of
// useful compute. An interruption keeps only the work covered by the last
// completed checkpoint. Closed form, so a failure costs O(1) and no
// checkpoint events are simulated.
#pragma once

#include <cstdint>

#include "core/units.h"

namespace stargate::twin {

struct Segment {
  Duration restart;   // paid at the start of the segment
  Duration useful;    // compute still needed on this placement
  Duration interval;  // useful compute between checkpoints; 0 = no checkpoints
  Duration write;     // training stall of one checkpoint
  Duration lag;       // a checkpoint is durable this long after its stall (async)
  // Compute done before the segment began and not yet in a durable
  // checkpoint (a job running when the run began, since its last one):
  // it shifts when checkpoints fall, and an interruption before the first
  // loses it too (SavedBy is then negative). Less than `interval` when
  // there are checkpoints; with a head, `restart` is zero.
  Duration head;

  // Wall time from segment start to completion (no checkpoint after the last
  // stretch: the job ends instead).
  Duration Wall() const;
  // Useful compute done by `elapsed` after segment start, saved or not.
  Duration DoneBy(Duration elapsed) const;
  // Useful compute protected by durable checkpoints at `elapsed`, less
  // the head when no checkpoint has covered it yet.
  Duration SavedBy(Duration elapsed) const;
  // Useful compute kept when the job is warned at `warned` (after segment
  // start) and stopped `warning` later: on the warning it writes a
  // checkpoint of everything done so far, which counts if it is durable
  // (write + lag) within the warning; else only the regular checkpoints.
  Duration SavedOnStop(Duration warned, Duration warning) const;

 private:
  // The same segment begun `head` earlier with the head still to do.
  Segment Whole() const;
};

}  // namespace stargate::twin
