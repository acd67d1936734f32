// Inference validation rows: each row's model, chip, split, precision, batch limits,
// scenario and lengths become a serving run of one replica (the system runs
// num_chips / (tp·pp) identical replicas); the predicted output tokens/s of the whole
// system is compared with the measured value. Nothing here is fitted to these rows: the
// engine limits come from the row (gpu_batch_size, max_num_tokens) or the engine's
// documented defaults, lengths from the row or the dataset statistics in data/datasets.
//
// How rows map:
//   * offline (MLPerf Offline, trtllm-bench throughput): every request queued at t = 0.
//   * server / interactive (MLPerf): Poisson at the row's target_qps (from notes).
//   * lengths: trtllm-bench rows give fixed input/output lengths; MLPerf rows draw the
//     dataset's per-sample lengths (data/datasets), outputs scaled to the row's mean
//     generated tokens (MLPerf Offline logs) or the official reference mean.
#include "pathfinder/report/validation_inference.h"

#include <fmt/core.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>

#include "pathfinder/core/strings.h"
#include "pathfinder/model/counts.h"
#include "pathfinder/ops/clock.h"
#include "pathfinder/power/power.h"
#include "pathfinder/serve/metrics.h"
#include "pathfinder/spec/chip_energy.h"
#include "pathfinder/spec/file.h"
#include "pathfinder/spec/model_spec.h"
#include "pathfinder/spec/serve_spec.h"

namespace pf::report {
namespace {

// TensorRT-LLM engine limits when a row does not state them: max_batch_size 2048 and
// max_num_tokens 8192 (TensorRT-LLM BuildConfig / trtllm-build defaults).
constexpr long kTrtllmMaxBatch = 2048;
constexpr long kTrtllmMaxTokens = 8192;
// MLPerf Offline/Server runs last ≥ 600 s (mlperf.conf min_duration; mlperf_datasets.md §1);
// a run of this many requests per replica (at least) keeps the ramp-down tail small.
constexpr long kMinRequestsPerReplica = 2000;
// Upper bound on simulated requests per replica per row (keeps `validate` fast).
constexpr long kMaxRequestsPerReplica = 12000;

struct Dataset {
  const char* model_preset;
  const char* file;
  double reference_output_mean;  // official reference generated tokens per sample
  long output_cap;               // max new tokens
  const char* source;
};
// data/datasets/README.md and ../shared/validation/mlperf_datasets.md §0.
const Dataset kDatasets[] = {
    {"llama-2-70b", "datasets/mlperf-llama2-70b-openorca.csv", 294.45, 1024,
     "MLCommons llama2-70b README: 294.45 tokens/sample"},
    {"mixtral-8x7b", "datasets/mlperf-mixtral-8x7b.csv", 144.84, 1024,
     "MLCommons mixtral-8x7b README: 144.84 tokens/sample"},
    {"llama-3.1-405b", "datasets/mlperf-llama3.1-405b.csv", 684.68, 2000,
     "MLCommons llama3.1-405b README: 684.68 tokens/sample"},
    {"llama-3.1-8b", "datasets/mlperf-llama3.1-8b-cnndm.csv", 128, 128,
     "no official token mean; max_tokens 128 and submitted runs ≈128 (mlperf_datasets.md §0)"},
    {"deepseek-v3", "datasets/mlperf-deepseek-r1.csv", 3886.2274, 20000,
     "MLCommons deepseek-r1 reference: 3886.2274 tokens/sample (20K cap)"},
};

// Model names in results tables → presets. DeepSeek-R1 has DeepSeek-V3's architecture
// (same config.json shapes; DeepSeek-R1 model card).
const std::map<std::string, std::string>& ModelNames() {
  static const std::map<std::string, std::string> m = {
      {"llama 2 70b chat", "llama-2-70b"},           {"mixtral 8x7b instruct", "mixtral-8x7b"},
      {"llama 3.1 405b instruct", "llama-3.1-405b"}, {"llama 3.1 8b instruct", "llama-3.1-8b"},
      {"llama 3.3 70b instruct", "llama-3.3-70b"},   {"qwen3-235b-a22b", "qwen3-235b-a22b"},
      {"deepseek-r1 (671b moe)", "deepseek-v3"},
  };
  return m;
}

RowResult Skip(const spec::ValidationTable& t, const spec::CsvRow& row, std::string reason) {
  RowResult r;
  r.id = t.Get(row, "id");
  if (r.id.empty()) r.id = fmt::format("line{}", row.line);
  r.kind = t.Get(row, "measured_metric");
  r.group = r.id.substr(0, r.id.find('_'));
  r.reason = std::move(reason);
  return r;
}

bool Number(const std::string& s, double* out) {
  const std::string x = Trim(s);
  if (x.empty()) return false;
  char* end = nullptr;
  *out = std::strtod(x.c_str(), &end);
  return *end == '\0' && std::isfinite(*out);
}

// The number after `key` (then spaces or '='), e.g. "gpu_batch_size 896", "target_qps 13.4".
std::optional<double> After(const std::string& text, const std::string& key) {
  const size_t p = text.find(key);
  if (p == std::string::npos) return std::nullopt;
  const char* c = text.c_str() + p + key.size();
  while (*c == ' ' || *c == '=') ++c;
  char* end = nullptr;
  const double v = std::strtod(c, &end);
  if (end == c || !(v > 0)) return std::nullopt;
  return v;
}

// "all 3000 requests queued" → 3000.
std::optional<double> QueuedRequests(const std::string& text) {
  const size_t p = text.find("all ");
  if (p == std::string::npos) return std::nullopt;
  return After(text.substr(p), "all");
}

// The engine limits trtllm-bench picks when it is given no --max_batch_size and
// --max_num_tokens (TensorRT-LLM ~v1.0, PyTorch backend; the perf-overview rows): the KV
// cache of the whole TP·PP group in GiB, (GPUs × device memory − checkpoint size) × free-
// memory fraction, over the KV bytes of one request of ISL + OSL tokens gives the requests
// that fit; max_batch_size is that (≤ 4096, ÷ PP) rounded up to 32 / 128 / 256 (at least
// 64), max_num_tokens is batch × (1 + ISL/OSL) (≤ 32768) rounded up to 256 / 512 / 1024 (at
// least 2048) — tensorrt_llm/bench/build/tuning.py calc_engine_setting and
// finetune_setting. The KV bytes per token count max(TP, kv_heads) heads (every rank holds
// at least one). The checkpoint size is its safetensors element count × bytes per element,
// and NVFP4 packs two weights per stored uint8 element, so its quantized linear weights
// count a quarter byte each (embeddings stay bf16, counted as one element at 0.5 B, as
// tuning.py does). Chunked prefill is off by default, so max_num_tokens is raised to hold
// the longest prompt with a full batch: max(max_num_tokens, max ISL + max_batch_size)
// (tensorrt_llm/bench/benchmark/utils/general.py get_settings). Read in NVIDIA/TensorRT-LLM
// at commits 04cba882 (tuning.py) and 0171265e (general.py), later than the rows' 00f37686;
// the v1.0-era versions seen compute the same.
struct EngineLimits {
  long max_batch = 0, max_tokens = 0;
};
EngineLimits TrtllmBenchLimits(const model::Architecture& a, Bytes device_memory, int tp, int pp, double isl, double osl,
                               DType weights, DType kv, double free_fraction) {
  constexpr double kGiB = 1024.0 * 1024.0 * 1024.0;
  const model::Counts c = model::Count(a);
  const double linear = c.total_params - c.embedding_params;
  const bool fp4 = weights == DType::kFp4;
  const double elements = fp4 ? linear / 2 + c.embedding_params : c.total_params;
  const double bytes_per_elem = fp4 ? 0.5 : BytesPerElement(weights) <= 1 ? 1.0 : 2.0;
  const double kv_bytes = BytesPerElement(kv) <= 1 ? 1.0 : 2.0;
  const int kv_heads = model::IsMla(a) ? 1 : std::max(tp, a.kv_heads);
  const int head = model::IsMla(a) ? a.mla.kv_lora_rank + a.mla.qk_rope_head_dim : a.head_dim;
  const double per_token_gib = 2.0 * a.layers * kv_heads * head * kv_bytes / kGiB;
  const double total_gib = device_memory.value() / kGiB * double(tp * pp);
  const double engine_gib = elements * bytes_per_elem / kGiB;
  const double requests = (total_gib - engine_gib) * free_fraction / (per_token_gib * (isl + osl));
  const double raw_bs = std::min(requests, 4096.0) / pp;
  const double raw_token = std::min(raw_bs * (1 + isl / osl), 32768.0);
  auto up = [](double x, double step) { return long(step * std::ceil(x / step)); };
  EngineLimits l;
  l.max_batch = raw_bs < 256 ? std::max(64L, up(raw_bs, 32)) : raw_bs < 1024 ? up(raw_bs, 128) : up(raw_bs, 256);
  l.max_tokens = raw_token < 4096 ? std::max(2048L, up(raw_token, 256)) : raw_token < 8192 ? up(raw_token, 512)
                                                                                           : up(raw_token, 1024);
  l.max_tokens = std::max(l.max_tokens, long(std::ceil(isl)) + l.max_batch);
  return l;
}

// "77.995 samples/s" in the notes → 77.995.
std::optional<double> SamplesPerSecond(const std::string& notes) {
  const size_t p = notes.find(" samples/s");
  if (p == std::string::npos) return std::nullopt;
  size_t b = p;
  while (b > 0 && (std::isdigit(static_cast<unsigned char>(notes[b - 1])) || notes[b - 1] == '.')) --b;
  double v = 0;
  if (b == p || !Number(notes.substr(b, p - b), &v) || !(v > 0)) return std::nullopt;
  return v;
}

struct Lengths {
  std::vector<std::pair<int32_t, int32_t>> samples;
  double output_mean = 0;  // of the file's output column after the cap
  std::string error;
};

const Lengths& DatasetLengths(const Dataset& d) {
  static std::map<std::string, Lengths> cache;
  static std::mutex mu;
  std::lock_guard<std::mutex> lock(mu);
  auto it = cache.find(d.file);
  if (it != cache.end()) return it->second;
  Lengths l;
  Diagnostics diag;
  auto text = spec::ReadSpecFile(d.file, "", diag, {}, "dataset");
  if (text) spec::ParseLengthSamplesCsv(*text, d.file, &l.samples, diag);
  if (diag.has_errors()) l.error = Trim(diag.Render());
  double s = 0;
  for (auto& p : l.samples) {
    p.second = int32_t(std::min<long>(p.second, d.output_cap));
    s += p.second;
  }
  l.output_mean = l.samples.empty() ? 0 : s / double(l.samples.size());
  return cache.emplace(d.file, std::move(l)).first->second;
}

std::optional<model::Architecture> LoadModel(const std::string& preset) {
  static std::map<std::string, std::optional<model::Architecture>> cache;
  static std::mutex mu;
  std::lock_guard<std::mutex> lock(mu);
  auto it = cache.find(preset);
  if (it != cache.end()) return it->second;
  Diagnostics diag;
  auto a = spec::LoadModelByName(preset, diag);
  return cache.emplace(preset, a).first->second;
}

}  // namespace

RowResult InferenceRow(const spec::ValidationTable& t, const spec::CsvRow& row, ChipCache& chips) {
  double measured = 0;
  if (!Number(t.Get(row, "measured_value"), &measured) || measured <= 0) {
    return Skip(t, row, "missing field: measured_value is not a positive number");
  }
  const std::string metric = t.Get(row, "measured_metric"), unit = t.Get(row, "unit");
  if (metric != "tokens_per_s" || unit.find("output tokens/s") == std::string::npos) {
    return Skip(t, row, fmt::format("metric not modelled: {} [{}] (only output tokens/s)", metric, unit));
  }
  const std::string model_name = ToLower(Trim(t.Get(row, "model")));
  auto mit = ModelNames().find(model_name);
  if (mit == ModelNames().end()) return Skip(t, row, fmt::format("no model preset for '{}'", t.Get(row, "model")));
  auto arch = LoadModel(mit->second);
  if (!arch) return Skip(t, row, "model preset '" + mit->second + "' could not be loaded");
  const ChipCache::Entry& e = chips.Get(t.Get(row, "hardware"));
  if (!e.model) return Skip(t, row, e.error);

  double chips_d = 0, tp_d = 0, pp_d = 1, ep_d = 1;
  if (!Number(t.Get(row, "num_chips"), &chips_d) || chips_d < 1) return Skip(t, row, "missing field: num_chips");
  if (!Number(t.Get(row, "tp"), &tp_d) || tp_d < 1) return Skip(t, row, "missing field: tp (the split is not given)");
  Number(t.Get(row, "pp"), &pp_d);
  Number(t.Get(row, "ep"), &ep_d);
  graph::Parallelism par;
  par.tp = int(tp_d);
  par.pp = std::max(1, int(pp_d));
  par.ep = std::max(1, int(ep_d));
  const int per_replica = par.tp * par.pp;
  const int replicas = std::max(1, int(chips_d) / per_replica);
  if (auto problems = graph::Validate(par, *arch); !problems.empty()) {
    return Skip(t, row, "parallelism does not suit the model: " + problems.front().message);
  }

  // Precision: weights/matmuls, KV cache and attention math as the row states them.
  const std::string prec = t.Get(row, "precision"), framework = t.Get(row, "framework");
  const std::string notes = t.Get(row, "notes"), batch = t.Get(row, "batch_or_concurrency");
  serve::ServeSettings s;
  if (prec.find("FP4") != std::string::npos)
    s.weight_dtype = DType::kFp4;
  else if (prec.find("FP8") != std::string::npos)
    s.weight_dtype = DType::kFp8;
  else
    return Skip(t, row, "missing field: precision '" + prec + "' not understood");
  // KV cache: FP8 where the row says so, and for NVIDIA ModelOpt FP8/NVFP4 checkpoints,
  // whose hf_quant_config.json sets kv_cache_quant_algo FP8 (assumption: stated, not
  // checked per checkpoint).
  const bool fp8_kv = prec.find("FP8 KV") != std::string::npos || prec.find("ModelOpt") != std::string::npos ||
                      framework.find("MLPerf") != std::string::npos;
  s.kv_dtype = fp8_kv ? DType::kFp8 : DType::kBf16;
  s.attention_dtype = prec.find("FP8 context FMHA") != std::string::npos ? DType::kFp8 : DType::kBf16;

  // Engine limits: the row's, else trtllm-bench's heuristic (below, once the lengths are
  // known) for trtllm-bench rows, else the TensorRT-LLM build defaults.
  const auto stated_batch = After(batch, "gpu_batch_size"), stated_tokens = After(batch, "max_num_tokens");
  const bool bench_heuristic = framework.find("trtllm-bench") != std::string::npos && !stated_batch && !stated_tokens;
  s.engine.max_batch = long(stated_batch.value_or(double(kTrtllmMaxBatch)));
  s.engine.max_tokens = long(stated_tokens.value_or(double(kTrtllmMaxTokens)));
  s.engine.attention_dp =
      batch.find("attention DP") != std::string::npos || notes.find("attention DP") != std::string::npos;
  // The perf-overview's MoE rows say "attention DP enabled" from the doc's command template,
  // whose llm_options.yml nests enable_attention_dp under cuda_graph_config; TensorRT-LLM's
  // CudaGraphConfig (a StrictBaseModel, extra="forbid": batch_sizes, max_batch_size,
  // enable_padding only; tensorrt_llm/llmapi/llm_args.py) rejects that key, so the template
  // cannot be what produced the table and does not establish attention DP. Such rows run
  // trtllm-bench's default, enable_attention_dp false.
  const bool template_adp = framework.find("trtllm-bench") != std::string::npos &&
                            batch.find("attention DP") == std::string::npos &&
                            notes.find("doc command template") != std::string::npos;
  if (template_adp) s.engine.attention_dp = false;
  // trtllm-bench rows: kv_cache_free_gpu_mem_fraction 0.95 in many cases, 0.90 fallback (row notes); use the fallback.
  s.engine.kv_memory_fraction = 0.9;
  s.engine.replicas = 1;
  // TensorRT-LLM admits a request only with KV blocks for its whole output (its default
  // capacity scheduler policy GUARANTEED_NO_EVICT); vLLM allocates on demand and preempts.
  if (framework.find("TensorRT-LLM") != std::string::npos) s.engine.kv_admission = serve::KvAdmission::kReserveMax;

  // Workload.
  const std::string scenario = t.Get(row, "scenario");
  double in_len = 0, out_len = 0;
  const bool have_in = Number(t.Get(row, "input_len"), &in_len) && in_len >= 1;
  const bool have_out = Number(t.Get(row, "output_len"), &out_len) && out_len >= 1;
  std::string lengths_note;
  long dataset_samples = 0;
  if (have_in && have_out) {
    s.workload.input = {serve::LengthKind::kFixed, in_len};
    s.workload.output = {serve::LengthKind::kFixed, out_len};
    s.workload.requests = long(QueuedRequests(batch).value_or(double(kMinRequestsPerReplica)));
    lengths_note = fmt::format("fixed {}/{} tokens", in_len, out_len);
  } else {
    const Dataset* d = nullptr;
    for (const auto& x : kDatasets)
      if (mit->second == x.model_preset) d = &x;
    if (d == nullptr)
      return Skip(t, row, "missing field: input_len, and no dataset lengths for this model in data/datasets");
    const Lengths& l = DatasetLengths(*d);
    if (!l.error.empty() || l.samples.empty()) return Skip(t, row, "dataset lengths could not be read: " + l.error);
    s.workload.paired_samples = l.samples;
    const double target = have_out ? out_len : d->reference_output_mean;
    s.workload.output_scale = target / l.output_mean;
    dataset_samples = long(l.samples.size());
    lengths_note = fmt::format("{} lengths, output mean {:.0f} ({})", d->file, target,
                               have_out ? "the row's generated tokens/sample" : d->source);
  }

  // Arrivals: per replica.
  double qps = 0;
  if (scenario == "offline") {
    s.arrivals.kind = serve::ArrivalKind::kOffline;
    if (dataset_samples > 0) {
      // MLPerf's loadgen issues one Offline query of max(min_query_count, 1.1 × 600 s ×
      // expected QPS) samples (mlcommons/inference loadgen test_settings_internal.cc, kSlack
      // 1.1). The submitter's expected QPS is not in the row; its measured samples/s (notes)
      // stands in for it. This sets only the run's length, which matters for long-output
      // benchmarks: the longest outputs (DeepSeek-R1: up to 20K tokens) finish long after the
      // rest, a tail a short run overweights.
      double issued = double(dataset_samples);
      if (auto qps = SamplesPerSecond(notes)) issued = std::max(issued, 1.1 * 600.0 * *qps);
      s.workload.requests = std::max(kMinRequestsPerReplica, long(std::ceil(issued / double(replicas))));
    }
  } else if (scenario == "server" || scenario == "interactive") {
    auto q = After(notes, "target_qps");
    if (!q) return Skip(t, row, "missing field: target_qps in notes (the Poisson rate)");
    qps = *q;
    s.arrivals = {serve::ArrivalKind::kPoisson, qps / replicas, 0};
    // ≥ 600 s of arrivals (MLPerf min_duration), within the per-row bound.
    s.workload.requests = std::max(kMinRequestsPerReplica, long(std::ceil(600.0 * qps / replicas)));
  } else {
    return Skip(t, row, "scenario '" + scenario + "' not modelled");
  }
  s.workload.requests = std::min(s.workload.requests, kMaxRequestsPerReplica);
  if (bench_heuristic && have_in && have_out) {
    const EngineLimits l = TrtllmBenchLimits(*arch, e.model->chip().hbm.capacity, par.tp, par.pp, in_len, out_len,
                                             s.weight_dtype, s.kv_dtype, s.engine.kv_memory_fraction);
    s.engine.max_batch = l.max_batch;
    s.engine.max_tokens = l.max_tokens;
    s.engine.chunked_prefill = false;  // trtllm-bench's default (get_settings)
  }
  if (s.engine.attention_dp) {
    // With attention DP every rank of the TP group schedules its own batch (TensorRT-LLM
    // enable_attention_dp: max_batch_size and max_num_tokens are per rank).
    s.engine.max_batch *= par.tp;
    s.engine.max_tokens *= par.tp;
  }

  serve::IterationCostModel cost(*e.model, *arch, par, s, nullptr);
  if (!cost.memory().fits) {
    return Skip(t, row,
                fmt::format("does not fit: weights {} + activations {} per chip of {}", ToString(cost.memory().weights),
                            ToString(cost.memory().activations), ToString(cost.memory().hbm)));
  }
  spec::ServeRun run;
  run.res = serve::Simulate(s, cost);
  run.sum = serve::Summarize(run.res, s.slo);
  // The power cap, as `pathfinder serve` applies it: a run whose busy power exceeds the TDP
  // is re-simulated at the clock the cap leaves (chips with the TDP-based estimate never
  // throttle). One replica is simulated; its chips share its work.
  double clock_ratio = 1;
  std::string no_power;
  if (const power::ChipPowerModel* pm = chips.PowerModel(e.model->chip(), &no_power)) {
    auto run_at = [&](double ratio) {
      const ops::ClockedChip c = ops::AtClockRatio(e.model->chip(), e.model->ceilings(), ratio);
      const ops::OpModel slow(c.chip, c.ceilings);
      serve::IterationCostModel slow_cost(slow, *arch, par, s, nullptr);
      spec::ServeRun x;
      x.res = serve::Simulate(s, slow_cost);
      x.sum = serve::Summarize(x.res, s.slo);
      return x;
    };
    spec::CapServeRun(run, run_at, 1, per_replica, *pm, e.model->chip().clock, power::ServerPower{}, 1.0, &clock_ratio);
  }
  const serve::Summary& sum = run.sum;
  const double predicted = sum.output_tokens_per_s * replicas;

  RowResult r = Skip(t, row, "");
  r.ok = true;
  r.measured = measured;
  r.predicted = predicted;
  r.unit = "output tokens/s";
  r.abs_pct_error = std::fabs(predicted - measured) / measured * 100.0;
  r.reason = fmt::format(
      "{} × {} {} TP{}{}{}{} {}/{} KV {}, batch ≤{}, tokens ≤{}{}{}; {}; {} req/replica{}; mean batch {:.0f}, "
      "TTFT p99 {:.0f} ms, TPOT p99 {:.1f} ms",
      replicas, per_replica, e.preset, par.tp, par.pp > 1 ? fmt::format(" PP{}", par.pp) : "",
      par.ep > 1 ? fmt::format(" EP{}", par.ep) : "", s.engine.attention_dp ? " attnDP" : "", Name(cost.matmul_dtype()),
      Name(s.attention_dtype), Name(s.kv_dtype), s.engine.max_batch, s.engine.max_tokens,
      s.engine.chunked_prefill ? "" : " (trtllm-bench heuristic, no chunking)",
      template_adp ? "; the template's attention DP flag is invalid, run without" : "", lengths_note,
      s.workload.requests, qps > 0 ? fmt::format(", Poisson {:.4g} q/s", qps) : ", offline", sum.mean_batch,
      sum.ttft.p99 * 1e3, sum.tpot.p99 * 1e3);
  if (clock_ratio < 1) r.reason += fmt::format(", power cap: clock × {:.3f}", clock_ratio);
  return r;
}

}  // namespace pf::report
