// The progress reporter (see progress.h).
#include "pathfinder/search/progress.h"

#include <fmt/core.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <ostream>

namespace pf::search {
namespace {
// Redraws per second on a terminal: fast enough to look live, slow enough to cost nothing.
constexpr double kRedrawInterval = 0.1;
constexpr int kBarWidth = 20;

std::string Duration(double s) {
  if (!std::isfinite(s) || s < 0) return "?";
  const long t = long(std::llround(s));
  if (t >= 3600) return fmt::format("{}:{:02}:{:02}", t / 3600, (t / 60) % 60, t % 60);
  return fmt::format("{}:{:02}", t / 60, t % 60);
}
}  // namespace

Progress::Progress(size_t total, size_t done, std::ostream* out, bool terminal, Clock clock)
    : total_(total), done_(done), start_done_(done), out_(out), terminal_(terminal), clock_(std::move(clock)) {
  if (!clock_) {
    clock_ = [] { return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count(); };
  }
  start_ = clock_();
  last_decile_ = total_ == 0 ? 10 : done_ * 10 / total_;
}

std::string Progress::Line(size_t done, size_t total, size_t fresh, double elapsed, bool bar) {
  const double frac = total == 0 ? 1.0 : double(done) / double(total);
  const double rate = elapsed > 0 ? double(fresh) / elapsed : 0;
  const double eta = rate > 0 ? double(total - std::min(done, total)) / rate : NAN;
  std::string s;
  if (bar) {
    const int filled = int(frac * kBarWidth);
    s = "[" + std::string(size_t(filled), '#') + std::string(size_t(kBarWidth - filled), '.') + "] ";
  }
  s += fmt::format("{:5.1f}%  {}/{}  {:.0f} pt/s", 100 * frac, done, total, rate);
  s += done >= total ? fmt::format("  took {}", Duration(elapsed)) : fmt::format("  ETA {}", Duration(eta));
  return s;
}

void Progress::Advance(size_t n) {
  done_ += n;
  if (out_ == nullptr) return;
  const double now = clock_();
  if (terminal_) {
    if (now - last_draw_ >= kRedrawInterval) {
      last_draw_ = now;
      Draw(false);
    }
    return;
  }
  const size_t decile = total_ == 0 ? 10 : done_ * 10 / total_;
  if (decile > last_decile_ && done_ < total_) {
    last_decile_ = decile;
    Draw(false);
  }
}

void Progress::Draw(bool final) {
  const std::string line = Line(done_, total_, done_ - start_done_, clock_() - start_, terminal_);
  if (terminal_) {
    *out_ << "\r" << line << "\x1b[K" << (final ? "\n" : "") << std::flush;
  } else {
    *out_ << "sweep: " << line << "\n" << std::flush;
  }
}

void Progress::Finish() {
  if (finished_) return;
  finished_ = true;
  if (out_ != nullptr) Draw(true);
}

}  // namespace pf::search
