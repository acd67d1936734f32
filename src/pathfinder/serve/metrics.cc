// Serving metrics from the per-request records and the iteration statistics.
#include "pathfinder/serve/metrics.h"

#include <fmt/core.h>

#include <algorithm>
#include <cmath>
#include <limits>

namespace pf::serve {

double PercentileOf(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  const double pos = p / 100.0 * double(v.size() - 1);
  const size_t lo = size_t(std::floor(pos)), hi = std::min(v.size() - 1, lo + 1);
  std::nth_element(v.begin(), v.begin() + long(lo), v.end());
  const double a = v[lo];
  if (hi == lo) return a;
  const double b = *std::min_element(v.begin() + long(lo) + 1, v.end());
  return a + (b - a) * (pos - double(lo));
}

namespace {
Percentiles Of(const std::vector<double>& v) {
  Percentiles p;
  if (v.empty()) return p;
  double s = 0;
  for (double x : v) s += x;
  p.mean = s / double(v.size());
  p.p50 = PercentileOf(v, 50);
  p.p90 = PercentileOf(v, 90);
  p.p99 = PercentileOf(v, 99);
  return p;
}
}  // namespace

Summary Summarize(const SimResult& r, const Objectives& slo) {
  Summary s;
  s.requests = int64_t(r.requests.size());
  std::vector<double> ttft, tpot, e2e;
  double t0 = std::numeric_limits<double>::infinity(), t1 = 0, out_tok = 0, in_tok = 0;
  int64_t good = 0;
  for (const auto& q : r.requests) {
    if (q.rejected) {
      s.rejected++;
      continue;
    }
    if (!q.done) continue;
    s.completed++;
    t0 = std::min(t0, q.arrival);
    t1 = std::max(t1, q.finish);
    out_tok += q.output;
    in_tok += q.input;
    const double a = q.first_token - q.arrival, e = q.finish - q.arrival;
    const double b = q.output > 1 ? (q.finish - q.first_token) / double(q.output - 1) : 0.0;
    ttft.push_back(a);
    e2e.push_back(e);
    if (q.output > 1) tpot.push_back(b);
    const bool ok = (slo.ttft.value() <= 0 || a <= slo.ttft.value()) &&
                    (slo.tpot.value() <= 0 || b <= slo.tpot.value()) && (slo.e2e.value() <= 0 || e <= slo.e2e.value());
    good += ok ? 1 : 0;
  }
  s.span = s.completed > 0 ? t1 - t0 : 0;
  s.ttft = Of(ttft);
  s.tpot = Of(tpot);
  s.e2e = Of(e2e);
  s.tokens_per_decode_step = r.decode_steps > 0 ? double(r.decode_tokens) / double(r.decode_steps) : 1.0;
  s.itl.mean = r.itl.Mean();
  s.itl.p50 = r.itl.Percentile(50);
  s.itl.p90 = r.itl.Percentile(90);
  s.itl.p99 = r.itl.Percentile(99);
  s.slo_percentile_ttft = PercentileOf(ttft, slo.percentile);
  s.slo_percentile_tpot = PercentileOf(tpot, slo.percentile);
  s.slo_met = (slo.ttft.value() <= 0 || s.slo_percentile_ttft <= slo.ttft.value()) &&
              (slo.tpot.value() <= 0 || s.slo_percentile_tpot <= slo.tpot.value()) &&
              (slo.e2e.value() <= 0 || PercentileOf(e2e, slo.percentile) <= slo.e2e.value());
  if (s.span > 0) {
    s.output_tokens_per_s = out_tok / s.span;
    s.total_tokens_per_s = (out_tok + in_tok) / s.span;
    s.requests_per_s = double(s.completed) / s.span;
    s.goodput_requests_per_s = double(good) / s.span;
  }
  s.slo_attainment = s.completed > 0 ? double(good) / double(s.completed) : 0;
  s.mean_input = s.completed > 0 ? in_tok / double(s.completed) : 0;
  s.mean_output = s.completed > 0 ? out_tok / double(s.completed) : 0;
  s.iterations = r.iterations;
  s.preemptions = r.preemptions;
  s.mean_batch = r.iterations > 0 ? r.batch_seq_sum / double(r.iterations) : 0;
  s.mean_kv_used = r.busy_seconds > 0 ? r.kv_used_time / r.busy_seconds : 0;
  s.max_kv_used = r.max_kv_used;
  if (const double busy = r.busy_split.Total(); busy > 0) {
    const TimeSplit& b = r.busy_split;
    s.busy_share = {b.linear / busy, b.attention / busy, b.communication / busy, b.host / busy, b.draft / busy};
  }
  return s;
}

std::string RequestsCsv(const SimResult& r) {
  std::string out = "id,arrival_s,input,output,ttft_s,tpot_s,e2e_s,preemptions,replica,cached_prefix,rejected\n";
  out.reserve(out.size() + r.requests.size() * 80);
  for (const auto& q : r.requests) {
    const double tpot = q.output > 1 && !q.rejected ? (q.finish - q.first_token) / double(q.output - 1) : 0.0;
    out += fmt::format("{},{:.6f},{},{},{:.6f},{:.6f},{:.6f},{},{},{},{}\n", q.id, q.arrival, q.input, q.output,
                       q.first_token - q.arrival, tpot, q.finish - q.arrival, q.preemptions, q.replica, q.cached_prefix,
                       q.rejected ? 1 : 0);
  }
  return out;
}

}  // namespace pf::serve

namespace pf::serve {

MaxRate FindMaxRate(const ServeSettings& base, IterationCostModel& cost, double tolerance) {
  MaxRate out;
  ServeSettings s = base;
  s.arrivals.kind = ArrivalKind::kOffline;
  const Summary offline = Summarize(Simulate(s, cost), s.slo);
  out.probes++;
  double hi = offline.requests_per_s * 1.05, lo = 0;
  s.arrivals.kind = ArrivalKind::kPoisson;
  auto probe = [&](double rate, Summary* sum) {
    s.arrivals.rate = rate;
    *sum = Summarize(Simulate(s, cost), s.slo);
    out.probes++;
    return sum->slo_met && sum->completed == sum->requests;
  };
  Summary sum;
  // A trickle first: if 1 % of the capacity misses the SLO nothing will meet it.
  if (!probe(hi * 0.01, &sum)) return out;
  lo = hi * 0.01;
  out.rate = lo;
  out.at_rate = sum;
  while ((hi - lo) > tolerance * hi) {
    const double mid = (lo + hi) / 2;
    if (probe(mid, &sum)) {
      lo = mid;
      out.rate = mid;
      out.at_rate = sum;
    } else {
      hi = mid;
    }
  }
  return out;
}

}  // namespace pf::serve
