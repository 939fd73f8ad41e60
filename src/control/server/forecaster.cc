#include "control/server/forecaster.h"

namespace stargate::control {
namespace {

// Holds the one-at-a-time flag for a scope.
class Turn {
 public:
  explicit Turn(std::atomic<bool>* busy) : busy_(busy), mine_(!busy->exchange(true)) {}
  ~Turn() {
    if (mine_) *busy_ = false;
  }
  bool mine() const { return mine_; }

 private:
  std::atomic<bool>* busy_;
  bool mine_;
};

Status Busy() { return absl::ResourceExhaustedError("a forecast is running; try again when it is done"); }

}  // namespace

StatusOr<Forecast> Forecaster::Ask(const ForecastOptions& options) {
  Turn turn(&busy_);
  if (!turn.mine()) return Busy();
  SG_ASSIGN_OR_RETURN(const ForecastSnapshot state, cp_->ForecastState());
  return RunForecast(state, options);
}

StatusOr<std::pair<Forecast, Forecast>> Forecaster::AskWhatIf(const ForecastOptions& options, const WhatIf& what_if) {
  Turn turn(&busy_);
  if (!turn.mine()) return Busy();
  SG_ASSIGN_OR_RETURN(const ForecastSnapshot state, cp_->ForecastState());
  SG_ASSIGN_OR_RETURN(Forecast changed, RunForecast(state, options, what_if));  // a bad what-if fails first
  SG_ASSIGN_OR_RETURN(Forecast base, RunForecast(state, options));
  return std::make_pair(std::move(base), std::move(changed));
}

StatusOr<std::string> Forecaster::Export(const ForecastOptions& options, const WhatIf& what_if) {
  Turn turn(&busy_);
  if (!turn.mine()) return Busy();
  SG_ASSIGN_OR_RETURN(const ForecastSnapshot state, cp_->ForecastState());
  return ExportForecast(state, options, what_if);
}

std::shared_ptr<const Forecast> Forecaster::Latest() const {
  std::lock_guard<std::mutex> lock(mu_);
  return latest_;
}

void Forecaster::Run() {
  std::unique_lock<std::mutex> lock(mu_);
  Time due = clock_->Now();
  while (!stop_ && every_ > Duration::Zero()) {
    if (clock_->Now() < due) {
      clock_->WaitUntil(wake_, lock, due);
      continue;
    }
    lock.unlock();
    StatusOr<Forecast> f = Ask(standing_);
    lock.lock();
    if (f.ok()) latest_ = std::make_shared<const Forecast>(std::move(f).value());
    // Busy with an asked one: its turn comes as soon as that is done.
    const bool busy = f.status().code() == absl::StatusCode::kResourceExhausted;
    due = clock_->Now() + (busy ? Duration::Seconds(1) : every_);
  }
}

void Forecaster::Stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  wake_.notify_all();
}

}  // namespace stargate::control
