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

  // Wall time from segment start to completion (no checkpoint after the last
  // stretch: the job ends instead).
  Duration Wall() const;
  // Useful compute done by `elapsed` after segment start, saved or not.
  Duration DoneBy(Duration elapsed) const;
  // Useful compute protected by durable checkpoints at `elapsed`.
  Duration SavedBy(Duration elapsed) const;
  // Useful compute kept when the job is warned at `warned` (after segment
  // start) and stopped `warning` later: on the warning it writes a
  // checkpoint of everything done so far, which counts if it is durable
  // (write + lag) within the warning; else only the regular checkpoints.
  Duration SavedOnStop(Duration warned, Duration warning) const;
};

}  // namespace stargate::twin
