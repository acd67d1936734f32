// search/progress: progress of a long evaluation. On a terminal, one line redrawn in place:
//   [##########..........]  50.0%  5000/10000  812 pt/s  ETA 0:06
// Elsewhere (a log file, CI), a plain line at every 10 % and at the end, so logs stay short.
// Writes to the stream it is given (cli/ passes stderr); the clock is injectable for tests.
#pragma once

#include <cstddef>
#include <functional>
#include <iosfwd>
#include <string>

namespace pf::search {

class Progress {
 public:
  using Clock = std::function<double()>;  // seconds, monotonic

  // `done` points were finished before this run started (a resumed sweep); the rate and ETA
  // count only points finished by this run. `out` may be null (silent).
  Progress(size_t total, size_t done, std::ostream* out, bool terminal, Clock clock = nullptr);

  void Advance(size_t n);
  void Finish();  // the final line; idempotent

  // The text of the status line for `done` of `total` after `elapsed` seconds having
  // finished `fresh` points in this run (exposed for tests).
  static std::string Line(size_t done, size_t total, size_t fresh, double elapsed, bool bar);

 private:
  void Draw(bool final);

  size_t total_, done_, start_done_;
  std::ostream* out_;
  bool terminal_;
  Clock clock_;
  double start_ = 0, last_draw_ = -1;
  size_t last_decile_ = 0;
  bool finished_ = false;
};

}  // namespace pf::search
