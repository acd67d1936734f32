// Event-mode pipeline schedule and its Chrome trace (see event.h).
#include "pathfinder/train/event.h"

#include <fmt/core.h>

#include <algorithm>
#include <string>
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

// Chrome trace-event slices, one thread (tid) per stream; nothing is kept when off.
class Tracks {
 public:
  explicit Tracks(bool on) : on_(on) {}
  void Slice(int tid, const std::string& name, const char* cat, double start_s, double dur_s, const std::string& args) {
    if (!on_) return;
    Add(fmt::format(R"({{"name":"{}","cat":"{}","ph":"X","pid":1,"tid":{},"ts":{:.3f},"dur":{:.3f},"args":{{{}}}}})", name, cat, tid,
                    start_s * 1e6, dur_s * 1e6, args));
  }
  void Name(int tid, const std::string& name) {
    if (!on_) return;
    Add(fmt::format(R"({{"name":"thread_name","ph":"M","pid":1,"tid":{},"args":{{"name":"{}"}}}})", tid, name));
    Add(fmt::format(R"({{"name":"thread_sort_index","ph":"M","pid":1,"tid":{},"args":{{"sort_index":{}}}}})", tid, tid));
  }
  std::string Json() const { return "{\"traceEvents\":[\n" + events_ + "\n],\"displayTimeUnit\":\"ms\"}\n"; }

 private:
  void Add(const std::string& e) {
    if (!events_.empty()) events_ += ",\n";
    events_ += e;
  }
  bool on_;
  std::string events_;
};

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
  // Per (stage, chunk, micro-batch), forward and backward: when the pass finished and when
  // its output (activations forward, gradients backward) reached the neighbouring stage;
  // < 0 = not yet.
  const size_t cells = size_t(pp) * size_t(v) * size_t(m);
  std::vector<double> fdone(cells, -1), bdone(cells, -1), fsent(cells, -1), bsent(cells, -1);
  auto at = [&](int st, int c, int mb) { return (size_t(st) * size_t(v) + size_t(c)) * size_t(m) + size_t(mb); };
  std::vector<size_t> next(size_t(pp), 0);
  std::vector<double> free_at(size_t(pp), 0), send_free(size_t(pp), 0), last_bwd(size_t(pp), 0);
  Tracks tracks(trace != nullptr);
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
            const double d = fsent[at(ps, pc, p.mb)];
            if (d < 0) break;
            ready = d;
          }
        } else {
          if (vs < last_vs) {
            const int ns = (vs + 1) % pp, nc = (vs + 1) / pp;
            const double d = bsent[at(ns, nc, p.mb)];
            if (d < 0) break;
            ready = d;
          } else {
            const double d = fdone[at(st, p.chunk, p.mb)];
            if (d < 0) break;
            ready = d;
          }
        }
        const double dur = (p.forward ? tm.fwd : tm.bwd).value() / v;
        const double start = std::max(free_at[size_t(st)], ready);
        const double finish = start + dur;
        free_at[size_t(st)] = finish;
        const size_t cell = at(st, p.chunk, p.mb);
        (p.forward ? fdone : bdone)[cell] = finish;
        if (trace != nullptr)
          tracks.Slice(3 * st, fmt::format("{}{}", p.forward ? "F" : "B", p.mb), p.forward ? "forward" : "backward", start, dur,
                     fmt::format(R"("microbatch":{},"chunk":{})", p.mb, p.chunk));
        // The output goes to the neighbouring stage on this stage's send stream, one send
        // after another; a blocking send also holds the compute stream until it has left.
        // (With one stage the chunks hand over in place.)
        const bool sends = p.forward ? vs < last_vs : vs > 0;
        if (sends && pp == 1) {
          (p.forward ? fsent : bsent)[cell] = finish;
        } else if (sends) {
          const double s0 = std::max(finish, send_free[size_t(st)]), s1 = s0 + p2p;
          send_free[size_t(st)] = s1;
          (p.forward ? fsent : bsent)[cell] = s1;
          if (blocking_p2p) free_at[size_t(st)] = s1;
          if (trace != nullptr && p2p > 0) {
            tracks.Slice(3 * st + 1, fmt::format("send {}{}", p.forward ? "F" : "B", p.mb), "pp send/recv", s0, p2p,
                         fmt::format(R"("microbatch":{},"chunk":{},"to_stage":{})", p.mb, p.chunk,
                                     p.forward ? (vs + 1) % pp : (vs - 1) % pp));
          }
        }
        if (!p.forward) last_bwd[size_t(st)] = std::max(last_bwd[size_t(st)], finish);
        end = std::max(end, finish);
        ++next[size_t(st)];
        ++n;
        progressed = true;
      }
    }
    PF_CHECK(progressed, "pipeline schedule deadlocked at {} of {} passes", n, total_events);
  }
  // Each stage syncs its own gradients once its last backward is done: the part the fast
  // mode hides behind that backward runs alongside it on the data-parallel stream (its own
  // communicator, so not behind the sends), the rest is exposed; then the optimizer step,
  // then the ZeRO-1/2 parameter all-gather, of which only the part the next step's first
  // forward does not hide counts. A stage whose last backward ends early (the last stage
  // under 1F1B) syncs while the others still drain.
  double step_end = end;
  for (int st = 0; st < pp; ++st) {
    const StageTiming& tm = fast.stages[size_t(st)];
    const double hidden = (tm.dp_grad - tm.dp_grad_exposed).value();
    const double g0 = std::max(0.0, last_bwd[size_t(st)] - hidden);
    const double g1 = std::max(g0 + tm.dp_grad.value(), last_bwd[size_t(st)]);
    const double o1 = g1 + tm.optimizer.value();
    if (tm.dp_grad.value() > 0) tracks.Slice(3 * st + 2, "dp gradient sync", "dp", g0, tm.dp_grad.value(), "");
    if (tm.optimizer.value() > 0) tracks.Slice(3 * st, "optimizer", "optimizer", g1, tm.optimizer.value(), "");
    if (tm.dp_gather.value() > 0) {
      tracks.Slice(3 * st + 2, "dp parameter all-gather", "dp", o1, tm.dp_gather.value(),
                   fmt::format(R"("exposed_ms":{:.6g})", tm.dp_gather_exposed.value() * 1e3));
    }
    step_end = std::max(step_end, o1 + tm.dp_gather_exposed.value());
  }
  EventResult r;
  r.pipeline = Seconds(end);
  r.total = Seconds(step_end);
  r.events = n;
  if (trace != nullptr) {
    for (int st = 0; st < pp; ++st) {
      tracks.Name(3 * st, fmt::format("stage {} compute", st));
      tracks.Name(3 * st + 1, fmt::format("stage {} pp send", st));
      tracks.Name(3 * st + 2, fmt::format("stage {} data-parallel", st));
    }
    *trace = tracks.Json();
  }
  return r;
}

}  // namespace pf::train
