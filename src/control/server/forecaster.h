// File: forecaster.h
// Runs the server's live forecasts (forecast.h), one at a time: those
// asked for (GET/POST /v1/forecast) and, every `every` of the clock, a
// standing one (24 h, a few seeds) whose latest result `job show`, the
// job list and the dashboard read without waiting for a run. A forecast
// copies the state under the control plane's lock and runs outside it.
//
// Thread-safe. Run() blocks on its own thread until Stop().
#pragma once

#include <atomic>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <utility>

#include "control/server/control_plane.h"
#include "control/server/forecast.h"
#include "core/clock.h"

namespace stargate::control {

class Forecaster {
 public:
  // `every` zero: no standing forecast (Latest stays null).
  Forecaster(ControlPlane* cp, Clock* clock, Duration every = Duration::Zero(), ForecastOptions standing = {})
      : cp_(cp), clock_(clock), every_(every), standing_(standing) {}

  // A forecast now; ResourceExhausted while another runs.
  StatusOr<Forecast> Ask(const ForecastOptions& options);
  // The baseline and the what-if, from one copy of the state, on the same
  // seeds. ResourceExhausted while another runs.
  StatusOr<std::pair<Forecast, Forecast>> AskWhatIf(const ForecastOptions& options, const WhatIf& what_if);
  // The scenario the forecast's first seed would run (ExportForecast),
  // under the same one-at-a-time rule.
  StatusOr<std::string> Export(const ForecastOptions& options, const WhatIf& what_if);
  // The standing forecast's latest result (null: none yet).
  std::shared_ptr<const Forecast> Latest() const;

  // Makes the standing forecast every `every` until Stop (at once first).
  void Run();
  void Stop();

 private:
  ControlPlane* const cp_;
  Clock* const clock_;
  const Duration every_;
  const ForecastOptions standing_;
  std::atomic<bool> busy_{false};
  mutable std::mutex mu_;
  std::condition_variable wake_;
  bool stop_ = false;
  std::shared_ptr<const Forecast> latest_;
};

}  // namespace stargate::control
