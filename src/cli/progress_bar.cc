#include "cli/progress_bar.h"

#include <unistd.h>

#include <algorithm>

namespace stargate::cli {

ProgressBar::ProgressBar(std::string label, Clock& clock)
    : label_(std::move(label)), enabled_(isatty(STDERR_FILENO) == 1), clock_(clock), start_(clock.Now()) {}

ProgressBar::~ProgressBar() {
  if (enabled_ && last_percent_ >= 0) std::fputc('\n', stderr);
}

void ProgressBar::Update(double fraction) {
  if (!enabled_) return;
  const int percent = static_cast<int>(std::clamp(fraction, 0.0, 1.0) * 100.0);
  if (percent == last_percent_) return;
  last_percent_ = percent;
  constexpr int kWidth = 40;
  const int filled = percent * kWidth / 100;
  const double elapsed = (clock_.Now() - start_).seconds();
  std::string bar(static_cast<size_t>(filled), '#');
  bar.resize(kWidth, '.');
  std::fprintf(stderr, "\r%s [%s] %3d%%  %.1fs", label_.c_str(), bar.c_str(), percent, elapsed);
  std::fflush(stderr);
}

}  // namespace stargate::cli
