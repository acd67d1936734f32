// The serve section's field table, the cross-field rules no single field can check, and
// the trace / dataset CSV readers.
#include "pathfinder/spec/serve_spec.h"

#include <fmt/core.h>

#include <cerrno>
#include <cstdlib>
#include <filesystem>
#include <memory>

#include "pathfinder/core/strings.h"
#include "pathfinder/core/units_parse.h"
#include "pathfinder/spec/file.h"
#include "pathfinder/spec/validation_csv.h"

namespace pf::spec {
namespace fs = std::filesystem;
using serve::ServeSettings;

namespace {

// The latest arrival a run may have: the simulator keeps time in seconds in a double, which
// holds a microsecond up to about 10^9 s; past that a decode step no longer moves the clock.
constexpr double kMaxArrivalSpan = 1e9;

std::vector<std::pair<std::string, DType>> DTypeOptions() {
  std::vector<std::pair<std::string, DType>> v;
  for (DType t : kAllDTypes) v.push_back({std::string(Name(t)), t});
  return v;
}

std::shared_ptr<const Schema<serve::LengthDist>> LengthSchema() {
  using L = serve::LengthDist;
  auto s = std::make_shared<Schema<L>>("length");
  s->Choice<serve::LengthKind>("distribution", &L::kind, "how lengths are drawn",
                               {{"fixed", serve::LengthKind::kFixed},
                                {"uniform", serve::LengthKind::kUniform},
                                {"normal", serve::LengthKind::kNormal},
                                {"lognormal", serve::LengthKind::kLogNormal}})
      .Default("fixed")
      .Number("mean", &L::mean, "mean length in tokens (fixed: every request)", 0, 1e8)
      .Number("stddev", &L::stddev, "standard deviation in tokens (normal, lognormal)", 0, 1e8)
      .Integer("min", &L::min, "shortest length in tokens (uniform: lower bound; others: clamp)", 1, 100000000)
      .Default("1")
      .Integer("max", &L::max, "longest length in tokens (uniform: upper bound; others: clamp)", 1, 1 << 30);
  return s;
}

std::string BaseDir(const LoadContext& ctx) { return fs::path(ctx.file).parent_path().string(); }

std::shared_ptr<const Schema<serve::Workload>> WorkloadSchema() {
  using W = serve::Workload;
  auto s = std::make_shared<Schema<W>>("workload");
  s->Integer("requests", &W::requests, "requests in the run (a trace sets its own count)", 1, 100000000)
      .Default("1000")
      .Nested("input", &W::input, LengthSchema(), "prompt length in tokens")
      .Nested("output", &W::output, LengthSchema(), "generated length in tokens")
      .Custom(
          "dataset",
          {"dataset", "file", "", "",
           "CSV of per-sample input_length,output_length drawn as pairs (e.g. "
           "datasets/mlperf-llama2-70b-openorca.csv)"},
          [](const YAML::Node& n, W& w, LoadContext& ctx, const std::string& path) {
            if (!n.IsScalar()) return ctx.Error(n, path, "expected a file path");
            auto text = ReadSpecFile(n.Scalar(), BaseDir(ctx), *ctx.diag, ctx.At(n), path);
            if (text && ParseLengthSamplesCsv(*text, n.Scalar(), &w.paired_samples, *ctx.diag))
              w.dataset_file = n.Scalar();
          },
          [](const W& w, const std::string& path, auto* rows) {
            rows->push_back({path, w.dataset_file.empty() ? "-" : w.dataset_file});
          })
      .Custom(
          "trace", {"trace", "file", "", "", "CSV of requests: arrival_s,input,output"},
          [](const YAML::Node& n, W& w, LoadContext& ctx, const std::string& path) {
            if (!n.IsScalar()) return ctx.Error(n, path, "expected a file path");
            auto text = ReadSpecFile(n.Scalar(), BaseDir(ctx), *ctx.diag, ctx.At(n), path);
            if (text && ParseTraceCsv(*text, n.Scalar(), &w.trace, *ctx.diag)) w.trace_file = n.Scalar();
          },
          [](const W& w, const std::string& path, auto* rows) {
            rows->push_back({path, w.trace_file.empty() ? "-" : w.trace_file});
          })
      .Number("output_scale", &W::output_scale, "multiplies every drawn output length", 0.001, 1000)
      .Default("1")
      .Integer("shared_prefix", &W::shared_prefix, "leading prompt tokens every request shares", 0, 100000000)
      .Default("0")
      .Integer("seed", &W::seed, "random seed", 0, 1L << 62)
      .Default("1");
  return s;
}

std::shared_ptr<const Schema<serve::Arrivals>> ArrivalsSchema() {
  using A = serve::Arrivals;
  auto s = std::make_shared<Schema<A>>("arrivals");
  s->Choice<serve::ArrivalKind>("process", &A::kind, "how requests arrive",
                                {{"offline", serve::ArrivalKind::kOffline},
                                 {"poisson", serve::ArrivalKind::kPoisson},
                                 {"trace", serve::ArrivalKind::kTrace},
                                 {"closed-loop", serve::ArrivalKind::kClosedLoop}})
      .Default("offline")
      .Number("rate", &A::rate, "Poisson arrival rate, whole system", 0, 1e9, "req/s")
      .Integer("concurrency", &A::concurrency, "closed loop: requests outstanding", 1, 100000000);
  return s;
}

std::shared_ptr<const Schema<serve::Engine>> EngineSchema() {
  using E = serve::Engine;
  auto s = std::make_shared<Schema<E>>("engine");
  s->Integer("replicas", &E::replicas, "model instances (each tp·pp chips)", 1, 1000000)
      .Default("1")
      .Integer("max_batch", &E::max_batch, "sequences per iteration (vLLM max_num_seqs)", 1, 1000000)
      .Default("256")
      .Integer("max_tokens", &E::max_tokens, "tokens per iteration (max_num_batched_tokens / max_num_tokens)", 1,
               100000000)
      .Default("8192")
      .Flag("chunked_prefill", &E::chunked_prefill, "split prompts over iterations")
      .Default("true")
      .Choice<serve::Policy>(
          "policy", &E::policy, "iteration scheduling",
          {{"decode-first", serve::Policy::kDecodeFirst}, {"prefill-first", serve::Policy::kPrefillFirst}})
      .Default("decode-first")
      .Integer("kv_block", &E::kv_block, "tokens per KV-cache block", 1, 65536)
      .Default("16")
      .Flag("prefix_caching", &E::prefix_caching, "reuse the KV cache of the shared prefix")
      .Default("false")
      .Choice<serve::KvAdmission>(
          "kv_admission", &E::kv_admission,
          "on-demand: blocks as tokens come, preempt when out (vLLM); reserve-max: blocks for the whole output at "
          "admission (TensorRT-LLM GUARANTEED_NO_EVICT)",
          {{"on-demand", serve::KvAdmission::kOnDemand}, {"reserve-max", serve::KvAdmission::kReserveMax}})
      .Default("on-demand")
      .Number("kv_memory_fraction", &E::kv_memory_fraction,
              "share of the memory left after weights and activations for KV", 0.01, 1)
      .Default("0.9")
      .Choice<serve::Router>(
          "router", &E::router, "how requests are spread over replicas",
          {{"round-robin", serve::Router::kRoundRobin}, {"least-outstanding", serve::Router::kLeastOutstanding}})
      .Default("least-outstanding")
      .Flag("attention_dp", &E::attention_dp, "attention data-parallel over the TP group (KV split, not replicated)")
      .Default("false")
      .Integer("prefill_replicas", &E::prefill_replicas, "disaggregation: replicas that only prefill (0 = off)", 0,
               1000000)
      .Default("0");
  return s;
}

std::shared_ptr<const Schema<serve::Objectives>> SloSchema() {
  using O = serve::Objectives;
  auto s = std::make_shared<Schema<O>>("slo");
  s->Quantity("ttft", &O::ttft, "time to first token limit", Bounds<Seconds>::Positive())
      .Quantity("tpot", &O::tpot, "time per output token limit", Bounds<Seconds>::Positive())
      .Quantity("e2e", &O::e2e, "end-to-end latency limit", Bounds<Seconds>::Positive())
      .Number("percentile", &O::percentile, "the limits hold at this percentile", 1, 100)
      .Default("99");
  return s;
}

std::shared_ptr<const Schema<serve::Speculative>> SpeculativeSchema() {
  using S = serve::Speculative;
  auto s = std::make_shared<Schema<S>>("speculative");
  s->Integer("draft_tokens", &S::draft_tokens, "tokens the drafter proposes per decode step (0 = off)", 0, 64)
      .Default("0")
      .Number("acceptance", &S::acceptance,
              "probability a proposed token is accepted given the previous ones were (measured for your model and "
              "data; DeepSeek-V3 reports 0.85-0.90 for its MTP module)",
              0, 1)
      .Integer("draft_layers", &S::draft_layers, "model layers one proposed token costs (MTP module depth)", 1, 1000)
      .Default("1");
  return s;
}

std::shared_ptr<Schema<ServeSettings>> BuildServeSchema() {
  auto s = std::make_shared<Schema<ServeSettings>>("serve");
  s->Nested("workload", &ServeSettings::workload, WorkloadSchema(), "request lengths")
      .Nested("arrivals", &ServeSettings::arrivals, ArrivalsSchema(), "arrival process")
      .Nested("engine", &ServeSettings::engine, EngineSchema(), "batching, KV cache, replicas")
      .Choice<DType>("weights", &ServeSettings::weight_dtype, "weight and matmul dtype", DTypeOptions())
      .Default("bf16")
      .Choice<DType>("kv_cache", &ServeSettings::kv_dtype, "KV-cache dtype", DTypeOptions())
      .Default("bf16")
      .Choice<DType>("attention", &ServeSettings::attention_dtype, "fused-attention math dtype", DTypeOptions())
      .Default("bf16")
      .Quantity("host_overhead", &ServeSettings::host_overhead,
                "host time per iteration (scheduling, sampling, launch gaps)", Bounds<Seconds>::NonNegative())
      .Default("2 ms")
      .Nested("speculative", &ServeSettings::speculative, SpeculativeSchema(),
              "speculative decoding (MTP-style drafter verified by the model)")
      .Nested("slo", &ServeSettings::slo, SloSchema(), "service-level objectives (goodput, --find-max-rate)");
  return s;
}

// Cross-field rules.
void CheckSettings(ServeSettings& s, const YAML::Node& node, LoadContext& ctx, const std::string& key_path) {
  auto at = [&](std::initializer_list<const char*> keys) {
    YAML::Node n = node;
    for (const char* k : keys) {
      if (!n.IsMap() || !n[k]) return n;
      n = n[k];
    }
    return n;
  };
  auto err = [&](std::initializer_list<const char*> keys, const std::string& rel, const std::string& msg) {
    ctx.Error(at(keys), JoinPath(key_path, rel), msg);
  };
  auto& w = s.workload;
  const bool have_lengths = !w.trace.empty() || !w.paired_samples.empty();
  for (auto [name, d] : {std::pair<const char*, serve::LengthDist*>{"input", &w.input}, {"output", &w.output}}) {
    if (have_lengths) break;
    const std::string rel = std::string("workload.") + name;
    if (d->kind == serve::LengthKind::kUniform) {
      if (d->max == (1 << 30))
        err({"workload", name}, rel + ".max", "a uniform distribution needs max");
      else if (d->min > d->max)
        err({"workload", name}, rel, fmt::format("min {} > max {}", d->min, d->max));
    } else if (d->mean < 1) {
      err({"workload", name}, rel + ".mean", "missing or below 1; give the mean length in tokens");
    }
    if ((d->kind == serve::LengthKind::kNormal || d->kind == serve::LengthKind::kLogNormal) && d->stddev <= 0) {
      err({"workload", name}, rel + ".stddev", "a normal or lognormal distribution needs stddev > 0");
    }
  }
  if (!w.trace.empty() && !w.paired_samples.empty())
    err({"workload"}, "workload", "give either a trace or a dataset, not both");
  const auto& a = s.arrivals;
  if (a.kind == serve::ArrivalKind::kPoisson && a.rate <= 0)
    err({"arrivals"}, "arrivals.rate", "Poisson arrivals need a rate > 0, e.g. \"10 req/s\"");
  else if (a.kind == serve::ArrivalKind::kPoisson && w.trace.empty()) {
    if (auto m = PoissonSpanError(w.requests, a.rate)) err({"arrivals", "rate"}, "arrivals.rate", *m);
  }
  if (a.kind == serve::ArrivalKind::kTrace && w.trace.empty())
    err({"arrivals", "process"}, "arrivals.process", "trace arrivals need workload.trace");
  if (a.kind == serve::ArrivalKind::kClosedLoop && a.concurrency < 1)
    err({"arrivals"}, "arrivals.concurrency", "a closed loop needs concurrency ≥ 1");
  const auto& sp = s.speculative;
  if (sp.draft_tokens > 0 && !(sp.acceptance > 0)) {
    err({"speculative"}, "speculative.acceptance",
        "speculative decoding needs the acceptance rate of its drafter (0 < acceptance ≤ 1), e.g. 0.85");
  }
  auto& e = s.engine;
  if (e.prefill_replicas > 0) {
    if (e.prefill_replicas >= e.replicas) {
      err({"engine", "prefill_replicas"}, "engine.prefill_replicas",
          fmt::format("{} prefill replicas leave none of the {} replicas to decode", e.prefill_replicas, e.replicas));
    }
    e.disaggregated = true;
  }
}

}  // namespace

const Schema<ServeSettings>& ServeSchema() {
  static const std::shared_ptr<Schema<ServeSettings>> s = BuildServeSchema();
  return *s;
}

std::optional<ServeSettings> LoadServeSection(const YAML::Node& node, LoadContext& ctx, const std::string& key_path) {
  const int before = ctx.diag->error_count();
  ServeSettings s;
  ServeSchema().Load(node, s, ctx, key_path);
  if (ctx.diag->error_count() == before && node.IsMap()) CheckSettings(s, node, ctx, key_path);
  if (ctx.diag->error_count() != before) return std::nullopt;
  return s;
}

std::optional<std::string> ReadSpecFile(const std::string& path, const std::string& base_dir, Diagnostics& diag,
                                        const SourceLocation& where, const std::string& key_path) {
  fs::path p(path);
  std::error_code ec;
  if (p.is_relative()) {
    const fs::path near = fs::path(base_dir) / p, data = fs::path(DataDir()) / p;
    if (fs::exists(near, ec))
      p = near;
    else if (fs::exists(data, ec))
      p = data;
    else {
      diag.Error(where, key_path,
                 fmt::format("file '{}' not found next to the scenario ({}) or under data/ ({})", path, near.string(),
                             data.string()));
      return std::nullopt;
    }
  }
  return ReadTextFile(p.string(), diag);
}

namespace {

// A token count of a trace or dataset row: a whole number of at most 10^8 (no model reads
// or writes more tokens per request; past it the counts would overflow the simulator's ints).
bool ParseLong(const std::string& s, long* out) {
  const std::string t = Trim(s);
  if (t.empty()) return false;
  char* end = nullptr;
  errno = 0;
  const long v = std::strtol(t.c_str(), &end, 10);
  if (*end != '\0' || errno == ERANGE || v > 100000000) return false;
  *out = v;
  return true;
}

// Splits CSV text and finds the named columns; reports a missing column.
bool Columns(std::string_view text, const std::string& name, const std::vector<std::string>& want,
             std::vector<std::vector<std::string>>* recs, std::vector<int>* lines, std::vector<int>* cols,
             Diagnostics& diag) {
  std::string error;
  if (!SplitCsv(text, recs, lines, &error)) {
    diag.Error({name, 0, 0}, "", error);
    return false;
  }
  if (recs->empty()) {
    diag.Error({name, 1, 1}, "", "empty file; expected a header line");
    return false;
  }
  const auto& header = recs->front();
  for (const auto& w : want) {
    int found = -1;
    for (size_t i = 0; i < header.size(); ++i)
      if (Trim(header[i]) == w) found = int(i);
    if (found < 0) {
      diag.Error({name, 1, 1}, "", fmt::format("missing column '{}'; the header is: {}", w, Join(header, ",")));
      return false;
    }
    cols->push_back(found);
  }
  return true;
}

}  // namespace

bool ParseTraceCsv(std::string_view text, const std::string& name, std::vector<serve::TraceRequest>* out,
                   Diagnostics& diag) {
  std::vector<std::vector<std::string>> recs;
  std::vector<int> lines, cols;
  if (!Columns(text, name, {"arrival_s", "input", "output"}, &recs, &lines, &cols, diag)) return false;
  const int before = diag.error_count();
  for (size_t r = 1; r < recs.size(); ++r) {
    const auto& rec = recs[r];
    if (rec.size() == 1 && Trim(rec[0]).empty()) continue;  // blank line
    const SourceLocation at{name, lines[r], 1};
    if (rec.size() <= size_t(std::max({cols[0], cols[1], cols[2]}))) {
      diag.Error(at, "", fmt::format("{} cells; the header has {}", rec.size(), recs[0].size()));
      continue;
    }
    serve::TraceRequest t;
    char* end = nullptr;
    const std::string arr = Trim(rec[size_t(cols[0])]);
    const double v = std::strtod(arr.c_str(), &end);
    if (arr.empty() || *end != '\0' || !(v >= 0)) {
      diag.Error(at, "", fmt::format("arrival_s '{}' is not a time in seconds ≥ 0", arr));
      continue;
    }
    if (!(v <= kMaxArrivalSpan)) {
      diag.Error(at, "",
                 fmt::format("arrival_s '{}' is beyond {:g} s (31.7 years), the span the simulator keeps to the "
                             "microsecond",
                             arr, kMaxArrivalSpan));
      continue;
    }
    t.arrival = Seconds(v);
    if (!ParseLong(rec[size_t(cols[1])], &t.input) || t.input < 1) {
      diag.Error(at, "",
                 fmt::format("input '{}' is not a whole number of tokens from 1 to 10^8", Trim(rec[size_t(cols[1])])));
      continue;
    }
    if (!ParseLong(rec[size_t(cols[2])], &t.output) || t.output < 1) {
      diag.Error(at, "",
                 fmt::format("output '{}' is not a whole number of tokens from 1 to 10^8", Trim(rec[size_t(cols[2])])));
      continue;
    }
    out->push_back(t);
  }
  if (diag.error_count() == before && out->empty()) diag.Error({name, 1, 1}, "", "no requests after the header");
  return diag.error_count() == before;
}

bool ParseLengthSamplesCsv(std::string_view text, const std::string& name,
                           std::vector<std::pair<int32_t, int32_t>>* out, Diagnostics& diag) {
  std::vector<std::vector<std::string>> recs;
  std::vector<int> lines, cols;
  if (!Columns(text, name, {"input_length", "output_length"}, &recs, &lines, &cols, diag)) return false;
  const int before = diag.error_count();
  for (size_t r = 1; r < recs.size(); ++r) {
    const auto& rec = recs[r];
    if (rec.size() == 1 && Trim(rec[0]).empty()) continue;
    const SourceLocation at{name, lines[r], 1};
    long in = 0, o = 0;
    if (rec.size() <= size_t(std::max(cols[0], cols[1])) || !ParseLong(rec[size_t(cols[0])], &in) ||
        !ParseLong(rec[size_t(cols[1])], &o) || in < 1 || o < 0) {
      diag.Error(at, "", "expected input_length ≥ 1 and output_length ≥ 0 as whole numbers up to 10^8");
      continue;
    }
    out->push_back({int32_t(in), int32_t(std::max(1L, o))});
  }
  if (diag.error_count() == before && out->empty()) diag.Error({name, 1, 1}, "", "no samples after the header");
  return diag.error_count() == before;
}

std::optional<std::string> PoissonSpanError(long requests, double rate) {
  if (double(requests) / rate <= kMaxArrivalSpan) return std::nullopt;
  return fmt::format(
      "{} requests at {:g} req/s arrive over about {:g} s, beyond the {:g} s (31.7 years) the simulator keeps to "
      "the microsecond; raise the rate or serve fewer requests",
      requests, rate, double(requests) / rate, kMaxArrivalSpan);
}

Result<serve::Objectives> ParseSloText(const std::string& text) {
  serve::Objectives o;
  size_t b = 0;
  while (b <= text.size()) {
    size_t e = text.find(',', b);
    const std::string part = Trim(text.substr(b, e == std::string::npos ? std::string::npos : e - b));
    if (!part.empty()) {
      const size_t eq = part.find('=');
      if (eq == std::string::npos) return Error{fmt::format("'{}' is not key=value (e.g. ttft=2s)", part)};
      const std::string k = Trim(part.substr(0, eq)), v = Trim(part.substr(eq + 1));
      if (k == "p" || k == "percentile") {
        char* end = nullptr;
        o.percentile = std::strtod(v.c_str(), &end);
        if (v.empty() || *end != '\0' || !(o.percentile >= 1 && o.percentile <= 100))
          return Error{fmt::format("percentile '{}' is not in [1, 100], as serve.slo.percentile", v)};
      } else {
        auto q = ParseQuantity<Seconds>(v);
        if (!q.ok()) return Error{fmt::format("{}: {}", k, q.error())};
        // The limits serve.slo takes in a scenario (Bounds::Positive, PlausibleMagnitude):
        // a limit of 0 s or less, or past 10^24 s, is a typo, not "no SLO".
        const double sec = q.value().value();
        if (!(sec > 0) || !PlausibleMagnitude(sec))
          return Error{fmt::format("{}: '{}' is not a time limit between {:g} s and {:g} s", k, v, kMinMagnitude,
                                   kMaxMagnitude)};
        if (k == "ttft")
          o.ttft = q.value();
        else if (k == "tpot")
          o.tpot = q.value();
        else if (k == "e2e")
          o.e2e = q.value();
        else
          return Error{fmt::format("unknown SLO '{}'; known: ttft, tpot, e2e, p", k)};
      }
    }
    if (e == std::string::npos) break;
    b = e + 1;
  }
  return o;
}

}  // namespace pf::spec
