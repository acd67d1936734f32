// Request generation: length sampling (fixed, uniform, normal, log-normal, empirical),
// paired dataset samples, traces, and Poisson arrival times.
#include "pathfinder/serve/workload.h"

#include <algorithm>
#include <cmath>
#include <numbers>

#include "pathfinder/core/check.h"

namespace pf::serve {

uint64_t LengthSampler::Next() {
  // splitmix64 (Steele, Lea, Flood 2014): fast, good enough for sampling, reproducible.
  uint64_t z = (state_ += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

double LengthSampler::Uniform01() { return (double(Next() >> 11) + 0.5) * (1.0 / 9007199254740992.0); }

double LengthSampler::Normal() {
  // Box–Muller.
  const double u1 = Uniform01(), u2 = Uniform01();
  return std::sqrt(-2.0 * std::log(u1)) * std::cos(2.0 * std::numbers::pi * u2);
}

long LengthSampler::Draw(const LengthDist& d) {
  double v = d.mean;
  switch (d.kind) {
    case LengthKind::kFixed:
      break;
    case LengthKind::kUniform:
      v = double(d.min) + std::floor(Uniform01() * double(d.max - d.min + 1));
      break;
    case LengthKind::kNormal:
      v = d.mean + d.stddev * Normal();
      break;
    case LengthKind::kLogNormal: {
      // Parameters of the underlying normal from the mean m and stddev s of the length.
      const double m = d.mean, s2 = d.stddev * d.stddev;
      const double sigma2 = std::log(1.0 + s2 / (m * m));
      const double mu = std::log(m) - sigma2 / 2.0;
      v = std::exp(mu + std::sqrt(sigma2) * Normal());
      break;
    }
    case LengthKind::kEmpirical:
      PF_CHECK(!d.samples.empty(), "empirical length distribution without samples");
      v = d.samples[size_t(Next() % d.samples.size())];
      break;
  }
  long n = std::lround(v);
  return std::clamp(n, std::max(1L, d.min), std::max(1L, d.max));
}

double MeanLength(const LengthDist& d) {
  switch (d.kind) {
    case LengthKind::kUniform:
      return (double(d.min) + double(d.max)) / 2.0;
    case LengthKind::kEmpirical: {
      double s = 0;
      for (int32_t x : d.samples) s += x;
      return d.samples.empty() ? 0.0 : s / double(d.samples.size());
    }
    default:
      return d.mean;
  }
}

std::vector<Request> MakeRequests(const Workload& w, const Arrivals& a) {
  LengthSampler rng(w.seed);
  std::vector<Request> out;
  const bool from_trace = !w.trace.empty();
  const long n = from_trace ? long(w.trace.size()) : w.requests;
  out.reserve(size_t(n));
  double t = 0;
  for (long i = 0; i < n; ++i) {
    Request r;
    r.id = i;
    if (from_trace) {
      r.input = int32_t(std::max(1L, w.trace[size_t(i)].input));
      r.output = int32_t(std::max(1L, w.trace[size_t(i)].output));
    } else if (!w.paired_samples.empty()) {
      const auto& p = w.paired_samples[size_t(rng.Next() % w.paired_samples.size())];
      r.input = std::max<int32_t>(1, p.first);
      r.output = std::max<int32_t>(1, p.second);
    } else {
      r.input = int32_t(rng.Draw(w.input));
      r.output = int32_t(rng.Draw(w.output));
    }
    if (w.output_scale != 1.0) r.output = std::max<int32_t>(1, int32_t(std::lround(r.output * w.output_scale)));
    r.prefix = int32_t(std::min<long>(w.shared_prefix, r.input - 1 > 0 ? r.input - 1 : 0));
    switch (a.kind) {
      case ArrivalKind::kOffline:
      case ArrivalKind::kClosedLoop:
        r.arrival = 0;
        break;
      case ArrivalKind::kPoisson:
        PF_CHECK(a.rate > 0, "Poisson arrivals need a positive rate");
        t += -std::log(rng.Uniform01()) / a.rate;
        r.arrival = t;
        break;
      case ArrivalKind::kTrace:
        PF_CHECK(from_trace, "trace arrivals without a trace");
        r.arrival = w.trace[size_t(i)].arrival.value();
        break;
    }
    out.push_back(r);
  }
  if (a.kind == ArrivalKind::kTrace) {
    std::stable_sort(out.begin(), out.end(), [](const Request& x, const Request& y) { return x.arrival < y.arrival; });
  }
  return out;
}

}  // namespace pf::serve
