// The serving event loop: arrivals, routing, per-replica continuous batching with a paged
// KV cache, preemption by recompute, prefix caching and prefill/decode hand-off.
#include "pathfinder/serve/simulator.h"

#include <algorithm>
#include <cmath>
#include <deque>
#include <limits>
#include <queue>
#include <random>

#include "pathfinder/core/check.h"

namespace pf::serve {
namespace {

// vLLM keeps 1 % of the KV blocks free when admitting new prompts (watermark 0.01,
// vllm/core/block_manager: `watermark=0.01`), so decodes rarely have to preempt.
constexpr double kAdmitWatermark = 0.01;

constexpr double kInf = std::numeric_limits<double>::infinity();

int64_t Blocks(int64_t tokens, int64_t block) { return tokens <= 0 ? 0 : (tokens + block - 1) / block; }

struct Seq {
  int32_t req = 0;
  int32_t kv = 0;         // tokens whose KV is in the cache (including a shared prefix)
  int32_t prompt = 0;     // tokens to prefill before decoding (input; input + generated after a preemption)
  int32_t generated = 0;  // tokens produced
  int32_t shared = 0;     // leading tokens in the replica's shared prefix blocks (not owned)
  int32_t blocks = 0;     // blocks owned
  int32_t chunk = 0;      // tokens scheduled in the current iteration (0 = not scheduled)
  double last_token = 0;
  bool handed = false;    // arrived from a prefill replica with its KV cache
};

enum class Role { kBoth, kPrefill, kDecode };

struct Replica {
  Role role = Role::kBoth;
  std::deque<int32_t> waiting;  // seq indices
  std::vector<int32_t> running;
  int64_t total_blocks = 0, free_blocks = 0;
  bool busy = false;       // an iteration (or a wake-up) is pending in the heap
  bool in_flight = false;  // an iteration is computing
  double start = 0;
  int64_t outstanding = 0;  // requests routed here and not finished / handed off
  bool prefix_cached = false;
  int64_t prefix_blocks = 0;
  std::vector<int32_t> sched;  // sequences of the iteration in flight
};

class ServingRun {
 public:
  ServingRun(const ServeSettings& s, IterationCostModel& cost, const SimOptions& opt)
      : s_(s), e_(s.engine), cost_(cost), opt_(opt) {}

  SimResult Run() {
    reqs_ = MakeRequests(s_.workload, s_.arrivals);
    const size_t n = reqs_.size();
    res_.requests.resize(n);
    res_.memory = cost_.memory();
    seqs_.resize(n);
    for (size_t i = 0; i < n; ++i) {
      auto& r = res_.requests[i];
      r.id = reqs_[i].id;
      r.input = reqs_[i].input;
      r.output = reqs_[i].output;
    }
    const int nrep = std::max(1, e_.replicas);
    reps_.resize(size_t(nrep));
    const int64_t blocks = cost_.memory().kv_tokens / e_.kv_block;
    for (int i = 0; i < nrep; ++i) {
      auto& r = reps_[size_t(i)];
      r.total_blocks = r.free_blocks = blocks;
      if (e_.disaggregated) r.role = i < e_.prefill_replicas ? Role::kPrefill : Role::kDecode;
    }
    max_seq_blocks_ = blocks;

    // Arrivals: open loop in order; closed loop sends `concurrency` now and one per completion.
    size_t next_open = 0;
    const bool closed = s_.arrivals.kind == ArrivalKind::kClosedLoop;
    if (closed) {
      const size_t c = size_t(std::max(1L, s_.arrivals.concurrency));
      for (size_t i = 0; i < std::min(c, n); ++i) sends_.push({0.0, int32_t(i)});
      next_closed_ = std::min(c, n);
    }
    size_t finished = 0;
    while (finished < n) {
      double ta = kInf;
      int kind = -1;  // 0 open arrival, 1 closed-loop send, 2 hand-off
      if (!closed && next_open < n) ta = reqs_[next_open].arrival, kind = 0;
      if (!sends_.empty() && sends_.top().first < ta) ta = sends_.top().first, kind = 1;
      if (!handoffs_.empty() && handoffs_.top().first < ta) ta = handoffs_.top().first, kind = 2;
      const double tr = events_.empty() ? kInf : events_.top().first;
      if (kind >= 0 && ta <= tr) {
        int32_t q = 0;
        if (kind == 0)
          q = int32_t(next_open++);
        else if (kind == 1)
          q = sends_.top().second, sends_.pop();
        else
          q = handoffs_.top().second, handoffs_.pop();
        if (kind != 2) {
          res_.requests[size_t(q)].arrival = ta;
          finished += Arrive(q, ta) ? 1 : 0;
        } else {
          HandOff(q, ta);
        }
        continue;
      }
      PF_CHECK(tr < kInf, "serving simulation stalled with {} of {} requests finished", finished, n);
      const int r = events_.top().second;
      events_.pop();
      Replica& rep = reps_[size_t(r)];
      rep.busy = false;
      if (rep.in_flight) finished += Finish(r, tr);
      Start(r, tr);
    }
    return std::move(res_);
  }

 private:
  // Routes a new request; returns true when it is rejected (finished at once).
  bool Arrive(int32_t q, double t) {
    const Request& rq = reqs_[size_t(q)];
    // A request whose prompt plus output can never fit in one replica's KV cache is rejected
    // (vLLM refuses prompts longer than the cache).
    if (Blocks(int64_t(rq.input) + rq.output, e_.kv_block) > max_seq_blocks_) {
      auto& rec = res_.requests[size_t(q)];
      rec.rejected = rec.done = true;
      rec.first_token = rec.finish = t;
      Complete(t);
      return true;
    }
    Seq& sq = seqs_[size_t(q)];
    sq.req = q;
    sq.prompt = rq.input;
    const int r = Route(e_.disaggregated ? Role::kPrefill : Role::kBoth);
    reps_[size_t(r)].waiting.push_back(q);
    reps_[size_t(r)].outstanding++;
    Wake(r, t);
    return false;
  }

  void HandOff(int32_t q, double t) {
    const int r = Route(Role::kDecode);
    Seq& sq = seqs_[size_t(q)];
    sq.kv = 0;  // the decode replica allocates the transferred cache on admission
    sq.shared = 0;
    sq.handed = true;
    reps_[size_t(r)].waiting.push_back(q);
    reps_[size_t(r)].outstanding++;
    Wake(r, t);
  }

  int Route(Role role) {
    int best = -1;
    const int n = int(reps_.size());
    if (e_.router == Router::kRoundRobin) {
      int& rr = role == Role::kDecode ? rr_decode_ : rr_;
      for (int k = 0; k < n; ++k) {
        const int i = (rr + k) % n;
        if (reps_[size_t(i)].role == role || (role == Role::kBoth)) {
          rr = (i + 1) % n;
          return i;
        }
      }
    }
    for (int i = 0; i < n; ++i) {
      const auto& r = reps_[size_t(i)];
      if (role != Role::kBoth && r.role != role) continue;
      if (best < 0 || r.outstanding < reps_[size_t(best)].outstanding) best = i;
    }
    PF_CHECK(best >= 0, "no replica for the role");
    return best;
  }

  void Wake(int r, double t) {
    Replica& rep = reps_[size_t(r)];
    if (rep.busy) return;
    rep.busy = true;
    events_.push({t, r});
  }

  void Complete(double t) {
    if (s_.arrivals.kind == ArrivalKind::kClosedLoop && next_closed_ < reqs_.size()) {
      sends_.push({t, int32_t(next_closed_++)});
    }
  }

  // Frees a sequence's blocks and resets it for recompute.
  void Preempt(Replica& rep, Seq& sq) {
    rep.free_blocks += sq.blocks;
    sq.blocks = 0;
    if (sq.generated > 0) sq.prompt = reqs_[size_t(sq.req)].input + sq.generated;
    sq.kv = sq.shared;
    sq.chunk = 0;
    res_.requests[size_t(sq.req)].preemptions++;
    res_.preemptions++;
  }

  // Schedules and starts one iteration on replica r at time t (if it has work).
  void Start(int r, double t) {
    Replica& rep = reps_[size_t(r)];
    const int64_t B = e_.kv_block;
    int64_t budget = e_.max_tokens;
    int64_t nseq = 0;
    chunks_.clear();
    sched_.clear();
    int64_t decode = 0;
    double ctx_sum = 0;
    int64_t logits = 0;

    const bool prefill_only =
        e_.policy == Policy::kPrefillFirst && !rep.waiting.empty() && CanAdmit(rep, rep.waiting.front(), budget);
    // 1. Running sequences: decodes (one token each) and prompts being chunked.
    for (size_t i = 0; i < rep.running.size(); ++i) {
      const int32_t q = rep.running[i];
      Seq& sq = seqs_[size_t(q)];
      if (sq.blocks < 0) continue;  // preempted in this pass
      if (nseq >= e_.max_batch || budget <= 0) break;
      const bool decoding = sq.kv >= sq.prompt;
      if (decoding && prefill_only) continue;
      int64_t want = decoding ? verify_ : std::min<int64_t>(sq.prompt - sq.kv, budget);
      if (!decoding && !e_.chunked_prefill && want < sq.prompt - sq.kv) continue;
      const int64_t need = std::max<int64_t>(0, Blocks(sq.kv + want - sq.shared, B) - sq.blocks);
      // Preempt the newest running sequences until the blocks are there.
      bool self = false;
      while (need > rep.free_blocks) {
        int32_t victim = -1;
        for (size_t j = rep.running.size(); j-- > i + 1;) {
          Seq& v = seqs_[size_t(rep.running[j])];
          if (v.blocks >= 0 && v.chunk == 0 && (v.blocks > 0 || v.kv > v.shared)) {
            victim = rep.running[j];
            break;
          }
        }
        if (victim < 0) {
          self = true;
          break;
        }
        Seq& v = seqs_[size_t(victim)];
        Preempt(rep, v);
        v.blocks = -1;  // mark: moves back to the waiting queue below
      }
      if (self) {
        Preempt(rep, sq);
        sq.blocks = -1;
        continue;
      }
      rep.free_blocks -= need;
      sq.blocks += int32_t(need);
      sq.chunk = int32_t(want);
      sched_.push_back(q);
      ++nseq;
      budget -= want;
      if (decoding) {
        ++decode;
        ctx_sum += double(sq.kv + 1);
        ++logits;
      } else {
        chunks_.push_back({want, sq.kv});
        if (sq.kv + want >= sq.prompt) ++logits;
      }
    }
    // Preempted sequences go back to the front of the queue, oldest first.
    if (std::any_of(rep.running.begin(), rep.running.end(), [&](int32_t q) { return seqs_[size_t(q)].blocks < 0; })) {
      std::vector<int32_t> keep, back;
      for (int32_t q : rep.running) (seqs_[size_t(q)].blocks < 0 ? back : keep).push_back(q);
      rep.running.swap(keep);
      for (auto it = back.rbegin(); it != back.rend(); ++it) {
        seqs_[size_t(*it)].blocks = 0;
        rep.waiting.push_front(*it);
      }
    }
    // 2. Admit waiting prompts (no preemption to make room; keep the watermark free).
    while (!rep.waiting.empty() && nseq < e_.max_batch && budget > 0) {
      const int32_t q = rep.waiting.front();
      Seq& sq = seqs_[size_t(q)];
      const Request& rq = reqs_[size_t(q)];
      if (sq.handed) {
        // A handed-off sequence: its prompt's KV arrives whole; it decodes from here.
        const int64_t need = e_.kv_admission == KvAdmission::kReserveMax
                                 ? Blocks(int64_t(rq.input) + rq.output - 1 + verify_ - 1, B)
                                                                         : Blocks(int64_t(rq.input) + sq.generated, B);
        if (need + int64_t(kAdmitWatermark * double(rep.total_blocks)) > rep.free_blocks &&
            !(rep.running.empty() && need <= rep.free_blocks)) {
          break;
        }
        rep.waiting.pop_front();
        sq.blocks = int32_t(need);
        rep.free_blocks -= need;
        sq.kv = rq.input + sq.generated - 1;
        sq.prompt = sq.kv;
        sq.handed = false;
        // It decodes in this iteration.
        sq.chunk = int32_t(verify_);
        rep.running.push_back(q);
        sched_.push_back(q);
        ++nseq;
        budget -= verify_;
        ++decode;
        ctx_sum += double(sq.kv + 1);
        ++logits;
        continue;
      }
      // Prefix cache: a hit skips the shared prompt blocks.
      if (e_.prefix_caching && rq.prefix > 0 && sq.kv == 0 && sq.generated == 0) {
        if (rep.prefix_cached) {
          sq.shared = int32_t(rq.prefix / B * B);
          sq.kv = sq.shared;
          res_.requests[size_t(q)].cached_prefix = sq.shared;
        }
      }
      int64_t want = std::min<int64_t>(sq.prompt - sq.kv, budget);
      if (!e_.chunked_prefill && want < sq.prompt - sq.kv) {
        // A whole prompt larger than the budget runs alone (vLLM raises max_num_batched_tokens to the model length).
        if (nseq > 0) break;
        want = sq.prompt - sq.kv;
      }
      // Reserve-max admission takes the blocks of the whole sequence (prompt + remaining output,
      // + the k positions a speculative step verifies past it) now.
      const int64_t need = e_.kv_admission == KvAdmission::kReserveMax
                               ? Blocks(int64_t(rq.input) + rq.output - 1 + (verify_ - 1) - sq.shared, B)
                               : Blocks(sq.kv + want - sq.shared, B);
      if (need + int64_t(kAdmitWatermark * double(rep.total_blocks)) > rep.free_blocks) {
        if (!(nseq == 0 && rep.running.empty() && need <= rep.free_blocks)) {
          sq.kv = 0, sq.shared = 0;
          break;
        }
      }
      rep.waiting.pop_front();
      rep.free_blocks -= need;
      sq.blocks = int32_t(need);
      sq.chunk = int32_t(want);
      rep.running.push_back(q);
      sched_.push_back(q);
      chunks_.push_back({want, sq.kv});
      if (sq.kv + want >= sq.prompt) ++logits;
      ++nseq;
      budget -= want;
      if (e_.prefix_caching && rq.prefix > 0 && !rep.prefix_cached) {
        // The first prompt with the prefix fills the shared blocks (pinned from now on).
        rep.prefix_cached = true;
        rep.prefix_blocks = Blocks(rq.prefix, B) - (rq.prefix % B != 0 ? 1 : 0);
        const int64_t move = std::min<int64_t>(rep.prefix_blocks, sq.blocks);
        sq.blocks -= int32_t(move);
        sq.shared = int32_t(move * B);
      }
    }
    if (sched_.empty()) {
      rep.in_flight = false;
      return;  // idle until the next arrival or hand-off wakes it
    }
    IterationWork w;
    w.decode_seqs = decode;
    w.decode_context = decode > 0 ? ctx_sum / double(decode) : 0;
    w.chunks = chunks_.data();
    w.chunk_count = int(chunks_.size());
    w.logits_rows = logits;
    const IterationBreakdown cost = cost_.Breakdown(w);
    const double dt = cost.total.value();
    res_.work += cost.work;
    rep.in_flight = true;
    rep.start = t;
    rep.busy = true;
    events_.push({t + dt, r});
    const double used = rep.total_blocks > 0 ? 1.0 - double(rep.free_blocks) / double(rep.total_blocks) : 0;
    res_.iterations++;
    res_.busy_seconds += dt;
    res_.busy_split.linear += cost.linear.value();
    res_.busy_split.attention += cost.attention.value();
    res_.busy_split.communication += cost.communication.value();
    res_.busy_split.host += cost.host.value();
    res_.busy_split.draft += cost.draft.value();
    res_.batch_seq_sum += double(nseq);
    res_.kv_used_time += used * dt;
    res_.max_kv_used = std::max(res_.max_kv_used, used);
    if (opt_.record_timeline && res_.timeline.size() < opt_.max_timeline) {
      IterationSample x;
      x.start = t;
      x.duration = dt;
      x.replica = r;
      x.seqs = int32_t(nseq);
      x.tokens = int32_t(e_.max_tokens - budget);
      int64_t pre = 0;
      for (const auto& c : chunks_) pre += c.tokens;
      x.prefill_tokens = int32_t(pre);
      x.kv_used = float(used);
      x.linear = float(cost.linear.value());
      x.attention = float(cost.attention.value());
      x.communication = float(cost.communication.value());
      x.host = float(cost.host.value());
      x.draft = float(cost.draft.value());
      res_.timeline.push_back(x);
    }
    rep.sched.swap(sched_);
  }

  bool CanAdmit(const Replica& rep, int32_t q, int64_t budget) const {
    const Seq& sq = seqs_[size_t(q)];
    const int64_t want = std::min<int64_t>(sq.prompt - sq.kv, budget);
    return Blocks(sq.kv + want, e_.kv_block) + int64_t(kAdmitWatermark * double(rep.total_blocks)) <= rep.free_blocks;
  }

  // Applies the finished iteration's results at time t; returns requests completed.
  size_t Finish(int r, double t) {
    Replica& rep = reps_[size_t(r)];
    rep.in_flight = false;
    size_t done = 0;
    bool any_left = false;
    for (int32_t q : rep.sched) {
      Seq& sq = seqs_[size_t(q)];
      if (sq.chunk == 0) continue;
      const bool was_prefill = sq.kv < sq.prompt;
      auto& rec = res_.requests[size_t(q)];
      // Tokens produced: one, or under speculative decoding the accepted drafts plus one
      // (never past the request's output). A decode's cache keeps only what was accepted.
      int32_t emitted = 1;
      if (was_prefill) {
        sq.kv += sq.chunk;
      } else {
        if (verify_ > 1) emitted = int32_t(std::min<int64_t>(1 + AcceptedDrafts(), rec.output - sq.generated));
        emitted = std::max(emitted, 1);
        sq.kv += emitted;
        res_.decode_steps++;
        res_.decode_tokens += emitted;
      }
      sq.chunk = 0;
      if (was_prefill && sq.kv < sq.prompt) continue;  // more chunks to go
      // The tokens of one step reach the client together: one gap, then none.
      for (int32_t i = 0; i < emitted; ++i) {
        sq.generated++;
        if (sq.generated == 1) {
          rec.first_token = t;
          rec.replica = r;
        } else {
          res_.itl.Add(i == 0 ? t - sq.last_token : 0.0);
        }
      }
      sq.last_token = t;
      if (sq.generated >= rec.output) {
        rec.finish = t;
        rec.done = true;
        rep.free_blocks += sq.blocks;
        sq.blocks = -2;  // finished: dropped from running below
        rep.outstanding--;
        ++done;
        Complete(t);
      } else if (rep.role == Role::kPrefill) {
        // Prefill done: hand the KV cache to a decode replica.
        rep.free_blocks += sq.blocks;
        sq.blocks = -2;
        rep.outstanding--;
        handoffs_.push({t + cost_.KvTransfer(sq.kv).value(), q});
        res_.work.link += cost_.memory().kv_per_token * double(sq.kv);
      }
    }
    for (int32_t q : rep.running) any_left |= seqs_[size_t(q)].blocks == -2;
    if (any_left) {
      std::vector<int32_t> keep;
      keep.reserve(rep.running.size());
      for (int32_t q : rep.running) {
        Seq& sq = seqs_[size_t(q)];
        if (sq.blocks == -2) {
          sq.blocks = 0;
          continue;
        }
        keep.push_back(q);
      }
      rep.running.swap(keep);
    }
    return done;
  }

  // Speculative decoding: drafts accepted in one step — each with probability α given the
  // previous one was, at most k (a truncated geometric draw from the run's own stream).
  int64_t AcceptedDrafts() {
    const Speculative& sp = s_.speculative;
    int64_t a = 0;
    while (a < sp.draft_tokens && std::uniform_real_distribution<double>(0.0, 1.0)(accept_rng_) < sp.acceptance) ++a;
    return a;
  }

  const ServeSettings& s_;
  const Engine& e_;
  IterationCostModel& cost_;
  const SimOptions& opt_;
  const int64_t verify_ = 1 + std::max(0, s_.speculative.draft_tokens);  // query tokens per decode
  std::mt19937_64 accept_rng_{s_.workload.seed ^ 0x5eedacce97ull};
  std::vector<Request> reqs_;
  std::vector<Seq> seqs_;
  std::vector<Replica> reps_;
  SimResult res_;
  int64_t max_seq_blocks_ = 0;
  size_t next_closed_ = 0;
  int rr_ = 0, rr_decode_ = 0;
  using Ev = std::pair<double, int32_t>;
  std::priority_queue<Ev, std::vector<Ev>, std::greater<Ev>> events_, sends_, handoffs_;
  std::vector<Chunk> chunks_;
  std::vector<int32_t> sched_;
};

}  // namespace

void LatencyHistogram::Add(double seconds) {
  // Bucket i covers [1 µs · 1.01^i, 1 µs · 1.01^(i+1)).
  const double x = std::max(seconds, 1e-6);
  const size_t i = size_t(std::log(x / 1e-6) / std::log(1.01));
  if (i >= buckets_.size()) buckets_.resize(i + 1, 0);
  buckets_[i]++;
  n_++;
  sum_ += seconds;
}

double LatencyHistogram::Percentile(double p) const {
  if (n_ == 0) return 0;
  const double target = std::max(1.0, std::ceil(p / 100.0 * double(n_)));
  int64_t acc = 0;
  for (size_t i = 0; i < buckets_.size(); ++i) {
    acc += buckets_[i];
    if (double(acc) >= target) return 1e-6 * std::pow(1.01, double(i) + 0.5);
  }
  return 1e-6 * std::pow(1.01, double(buckets_.size()));
}

SimResult Simulate(const ServeSettings& s, IterationCostModel& cost, const SimOptions& opt) {
  PF_CHECK(cost.memory().fits, "the model does not fit in the replica's memory");
  ServingRun run(s, cost, opt);
  return run.Run();
}

}  // namespace pf::serve
