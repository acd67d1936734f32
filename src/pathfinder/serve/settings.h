// serve/settings: what a serving run is asked to do — the workload (request lengths), how
// requests arrive, how the engine batches and caches, and the latency objectives — as a
// plain struct. spec/serve_spec.cc fills it from a scenario's `serve:` section (and reads
// trace / empirical-length files); serve/ never reads files.
//
// Defaults cite their source; a scenario overrides any of them.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "pathfinder/core/dtype.h"
#include "pathfinder/core/units.h"

namespace pf::serve {

// How input or output lengths are drawn.
enum class LengthKind {
  kFixed,      // every request `mean` tokens
  kUniform,    // uniform integers in [min, max]
  kNormal,     // normal(mean, stddev), rounded, clamped to [min, max]
  kLogNormal,  // log-normal with the given mean and stddev of the length (not of its log), clamped
  kEmpirical,  // drawn from `samples` (an empirical distribution, e.g. a dataset's lengths)
};

struct LengthDist {
  LengthKind kind = LengthKind::kFixed;
  double mean = 0;
  double stddev = 0;
  long min = 1;
  long max = 1 << 30;
  std::vector<int32_t> samples;  // kEmpirical only
};

// One request of a trace: arrival time (from the start), input and output tokens.
struct TraceRequest {
  Seconds arrival;
  long input = 0;
  long output = 0;
};

struct Workload {
  long requests = 1000;  // how many requests the run serves
  LengthDist input;      // prompt tokens
  LengthDist output;     // generated tokens (≥ 1)
  // Empirical pairs drawn together (per-sample input,output of a dataset); when not empty
  // they replace `input` and `output`, keeping each sample's two lengths together.
  std::vector<std::pair<int32_t, int32_t>> paired_samples;
  double output_scale = 1.0;             // multiplies drawn output lengths (e.g. to match a model's mean)
  long shared_prefix = 0;                // leading prompt tokens every request shares (system prompt)
  std::vector<TraceRequest> trace;       // when not empty: the requests, in order (lengths and arrivals)
  std::string dataset_file, trace_file;  // where paired_samples / trace came from (for reports and dumps)
  uint64_t seed = 1;
};

enum class ArrivalKind {
  kOffline,     // all at time 0 (MLPerf Offline, trtllm-bench throughput)
  kPoisson,     // exponential gaps at `rate` requests/s (MLPerf Server)
  kTrace,       // the trace's arrival times
  kClosedLoop,  // `concurrency` requests outstanding; each completion sends the next (vLLM bench --max-concurrency)
};

struct Arrivals {
  ArrivalKind kind = ArrivalKind::kOffline;
  double rate = 0;       // requests per second, whole system (Poisson)
  long concurrency = 0;  // closed loop
};

enum class Policy {
  kDecodeFirst,   // running decodes first, then (chunks of) prompts in the leftover token budget (vLLM V1, TRT-LLM
                  // inflight batching)
  kPrefillFirst,  // when prompts wait, an iteration runs prompts only (vLLM V0 default without chunked prefill)
};

enum class Router { kRoundRobin, kLeastOutstanding };

// When KV blocks are taken.
enum class KvAdmission {
  kOnDemand,    // blocks as tokens arrive; preempt by recompute when they run out (vLLM)
  kReserveMax,  // a request is admitted only with blocks for prompt + all its output (TensorRT-LLM's default
                // capacity scheduler policy GUARANTEED_NO_EVICT): never preempts
};

struct Engine {
  int replicas = 1;             // model instances; each uses tp·pp chips of the scenario's parallelism
  long max_batch = 256;         // sequences in one iteration (vLLM max_num_seqs default 256, vLLM EngineArgs)
  long max_tokens = 8192;       // tokens in one iteration (TRT-LLM max_num_tokens default 8192, trtllm-build docs)
  bool chunked_prefill = true;  // a prompt may be split over iterations (vLLM V1 default on)
  Policy policy = Policy::kDecodeFirst;
  long kv_block = 16;           // tokens per KV-cache block (vLLM default block_size 16)
  bool prefix_caching = false;  // reuse the KV of Workload::shared_prefix across requests
  KvAdmission kv_admission = KvAdmission::kOnDemand;
  // Fraction of the HBM left after weights and activations that the KV cache takes
  // (TRT-LLM kv_cache_free_gpu_mem_fraction, default 0.9 in TRT-LLM's KvCacheConfig).
  double kv_memory_fraction = 0.9;
  Router router = Router::kLeastOutstanding;
  // Attention data-parallel (DeepSeek/TRT-LLM "attention DP"): each chip of the TP group
  // attends its own sequences, so the KV cache is split over the TP group, not replicated.
  bool attention_dp = false;
  // Prefill/decode disaggregation: the first `prefill_replicas` replicas only run prompts,
  // the rest only decode; the KV cache moves between them over the network.
  bool disaggregated = false;
  int prefill_replicas = 0;
};

// The replicas a serving run has: engine.replicas, or the layout's data-parallel degree when
// replicas is left at 1 (a scenario with dp 4 serves 4 replicas).
inline int ServedReplicas(const Engine& e, int dp) { return dp > 1 && e.replicas == 1 ? dp : e.replicas; }

// Speculative decoding (Leviathan et al., "Fast Inference from Transformers via Speculative
// Decoding", ICML 2023): every decode step a drafter proposes `draft_tokens` tokens and the
// model verifies them in the same pass (1 + k query tokens per sequence). A proposed token
// is accepted with probability `acceptance` given the ones before it were, and the step
// emits the accepted prefix plus the model's own next token, so a step yields
// (1 − α^(k+1)) / (1 − α) tokens on average. The drafter is MTP-style (DeepSeek-V3
// technical report, arXiv 2412.19437, §2.2 — one extra transformer block sharing the
// embedding and output head): each proposed token costs `draft_layers` of the model's
// layers plus the output head over the decoding sequences. The acceptance rate depends on
// model, drafter and data and must come with the scenario (DeepSeek-V3 §5.4.3 reports 85–90 %
// for its second-token MTP module).
struct Speculative {
  int draft_tokens = 0;   // k tokens proposed per decode step; 0 = off
  double acceptance = 0;  // α, per proposed token
  int draft_layers = 1;   // model layers one proposed token costs (MTP module depth)
  bool on() const { return draft_tokens > 0; }
  // Mean tokens a decode step emits: 1 + α + … + α^k.
  double TokensPerStep() const {
    double t = 1, a = 1;
    for (int i = 0; i < draft_tokens; ++i) t += (a *= acceptance);
    return t;
  }
};

struct Objectives {  // SLOs; 0 = none
  Seconds ttft;
  Seconds tpot;
  Seconds e2e;
  double percentile = 99;  // the SLO holds at this percentile (MLPerf LLM rules: 99th)
};

struct ServeSettings {
  Workload workload;
  Arrivals arrivals;
  Engine engine;
  DType weight_dtype = DType::kBf16;     // weights and matmul inputs
  DType kv_dtype = DType::kBf16;         // KV-cache storage
  DType attention_dtype = DType::kBf16;  // fused attention math (FP8 FMHA where the engine uses it)
  // Per-iteration host time not in the operator model: scheduling, sampling, detokenizing,
  // Python and launch gaps between CUDA graphs. Default 2 ms: vLLM's 2024 profiling found
  // CPU work around each step of Llama-3-8B on H100 took as long as the GPU work
  // (vLLM blog "vLLM v0.6.0: 2.7x Throughput Improvement and 5x Latency Reduction",
  // 2024-09-05: HTTP/scheduling/detokenize overhead; a multi-step scheduler was added to
  // hide it). Estimate; a scenario should set it for its engine.
  Seconds host_overhead = Seconds(2e-3);
  Speculative speculative;
  Objectives slo;
};

}  // namespace pf::serve
