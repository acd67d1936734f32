// Event-mode pipeline schedule and its Chrome trace (see event.h).
#include "pathfinder/train/event.h"

#include <fmt/core.h>

#include <algorithm>
#include <vector>

#include "pathfinder/core/check.h"

namespace pf::train {
namespace {

struct Pass {
  bool forward = true;
  int mb = 0, chunk = 0;
};

// Megatron-LM's order of passes on one stage (schedules.py, forward_backward_pipelining_
// with(out)_interleaving).
std::vector<Pass> StageOrder(int stage, int pp, int v, int m) {
  const int total = m * v;
  int warmup = v == 1 ? pp - stage - 1 : (pp - stage - 1) * 2 + (v - 1) * pp;
  warmup = std::min(warmup, total);
  auto fwd = [&](int k) {
    Pass p;
    p.chunk = v == 1 ? 0 : (k / pp) % v;
    p.mb = v == 1 ? k : (k / (pp * v)) * pp + k % pp;
    return p;
  };
  auto bwd = [&](int k) {
    Pass p = fwd(k);
    p.forward = false;
    if (v > 1) p.chunk = v - 1 - (k / pp) % v;
    return p;
  };
  std::vector<Pass> order;
  order.reserve(size_t(2 * total));
  int f = 0, b = 0;
  for (; f < warmup; ++f) order.push_back(fwd(f));
  while (f < total) {
    order.push_back(fwd(f++));
    order.push_back(bwd(b++));
  }
  while (b < total) order.push_back(bwd(b++));
  return order;
}

}  // namespace

EventResult RunEvents(const TrainResult& fast, const TrainSettings& s, std::string* trace) {
  PF_CHECK(fast.ok, "RunEvents needs a simulated step");
  const int pp = int(fast.stages.size());
  int v = fast.virtual_stages;
  const int m = int(fast.microbatches);
  if (v > 1 && m % pp != 0) v = 1;  // Megatron requires m divisible by pp for interleaving
  const bool blocking_p2p = !s.overlap_pp_comm && pp > 1;

  std::vector<std::vector<Pass>> order{size_t(pp)};
  for (int st = 0; st < pp; ++st) order[size_t(st)] = StageOrder(st, pp, v, m);
  // done[stage][chunk][mb] for forward and backward: finish time, < 0 = not yet.
  const size_t cells = size_t(pp) * size_t(v) * size_t(m);
  std::vector<double> fdone(cells, -1), bdone(cells, -1);
  auto at = [&](int st, int c, int mb) { return (size_t(st) * size_t(v) + size_t(c)) * size_t(m) + size_t(mb); };
  std::vector<size_t> next(size_t(pp), 0);
  std::vector<double> free_at(size_t(pp), 0);
  std::string events;
  long n = 0;
  const long total_events = long(cells) * 2;
  double end = 0;
  // Chunk c of stage st holds virtual stage c·pp + st; its forward input comes from virtual
  // stage c·pp + st − 1, its backward input from c·pp + st + 1.
  while (n < total_events) {
    bool progressed = false;
    for (int st = 0; st < pp; ++st) {
      auto& q = order[size_t(st)];
      while (next[size_t(st)] < q.size()) {
        const Pass& p = q[size_t(next[size_t(st)])];
        const StageTiming& tm = fast.stages[size_t(st)];
        const double p2p = pp > 1 ? tm.p2p.value() : 0.0;
        double ready = 0;
        const int vs = p.chunk * pp + st, last_vs = v * pp - 1;
        if (p.forward) {
          if (vs > 0) {
            const int ps = (vs - 1) % pp, pc = (vs - 1) / pp;
            const double d = fdone[at(ps, pc, p.mb)];
            if (d < 0) break;
            ready = d + p2p;
          }
        } else {
          if (vs < last_vs) {
            const int ns = (vs + 1) % pp, nc = (vs + 1) / pp;
            const double d = bdone[at(ns, nc, p.mb)];
            if (d < 0) break;
            ready = d + p2p;
          } else {
            const double d = fdone[at(st, p.chunk, p.mb)];
            if (d < 0) break;
            ready = d;
          }
        }
        const double dur = (p.forward ? tm.fwd : tm.bwd).value() / v;
        const double start = std::max(free_at[size_t(st)], ready);
        const double finish = start + dur;
        // A blocking send keeps the stage busy until the activations (gradients) have left.
        const bool sends = p.forward ? vs < last_vs : vs > 0;
        free_at[size_t(st)] = finish + (blocking_p2p && sends ? p2p : 0.0);
        (p.forward ? fdone : bdone)[at(st, p.chunk, p.mb)] = finish;
        end = std::max(end, finish);
        if (trace != nullptr) {
          if (!events.empty()) events += ",\n";
          events += fmt::format(R"({{"name":"{}{}","cat":"{}","ph":"X","pid":1,"tid":{},"ts":{:.3f},"dur":{:.3f},"args":{{"microbatch":{},"chunk":{}}}}})",
                                p.forward ? "F" : "B", p.mb, p.forward ? "forward" : "backward", st, start * 1e6, dur * 1e6,
                                p.mb, p.chunk);
        }
        ++next[size_t(st)];
        ++n;
        progressed = true;
      }
    }
    PF_CHECK(progressed, "pipeline schedule deadlocked at {} of {} passes", n, total_events);
  }
  EventResult r;
  r.pipeline = Seconds(end);
  r.total = r.pipeline + fast.step.dp_comm + fast.step.optimizer;
  r.events = n;
  if (trace != nullptr) {
    for (int st = 0; st < pp; ++st) {
      events += fmt::format(",\n{{\"name\":\"dp sync + optimizer\",\"cat\":\"step\",\"ph\":\"X\",\"pid\":1,\"tid\":{},\"ts\":{:.3f},\"dur\":{:.3f}}}",
                            st, end * 1e6, (fast.step.dp_comm + fast.step.optimizer).value() * 1e6);
      events += fmt::format(",\n{{\"name\":\"thread_name\",\"ph\":\"M\",\"pid\":1,\"tid\":{},\"args\":{{\"name\":\"stage {}\"}}}}", st, st);
    }
    *trace = "{\"traceEvents\":[\n" + events + "\n],\"displayTimeUnit\":\"ms\"}\n";
  }
  return r;
}

}  // namespace pf::train
