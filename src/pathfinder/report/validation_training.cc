// Validation of the training simulator against published runs (training_results.csv):
// each throughput-type row (tflops_per_chip, step_time_s, tokens_per_s, tokens_per_s_per_chip,
// samples_per_s, mfu) is rebuilt as a scenario — chip from the hardware cell, cluster from
// the chip's preset cluster, model from the row's columns (or a preset for MoE/MLA models),
// parallelism and settings from the row and its notes — and simulated in fast mode, at the
// clock the power cap leaves (spec::CapTrainStep, as `pathfinder train`).
// Nothing here is fitted to the rows: the row only says what was run.
#include <fmt/core.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <functional>
#include <limits>
#include <map>
#include <memory>
#include <regex>
#include <sstream>
#include <tuple>

#include "pathfinder/core/strings.h"
#include "pathfinder/model/counts.h"
#include "pathfinder/report/validation.h"
#include "pathfinder/spec/chip_energy.h"
#include "pathfinder/spec/chip_spec.h"
#include "pathfinder/spec/cluster_spec.h"
#include "pathfinder/spec/model_spec.h"
#include "pathfinder/spec/schema.h"
#include "pathfinder/spec/validation_csv.h"
#include "pathfinder/train/simulator.h"

namespace pf::report {
namespace {

std::string Lower(std::string s) {
  for (char& c : s) c = char(std::tolower(static_cast<unsigned char>(c)));
  return s;
}
bool Has(const std::string& haystack, const char* needle) { return Lower(haystack).find(needle) != std::string::npos; }

// The whole number a cell starts with ("2048 seq", "1 (FSDP 64)"); nullopt when the cell
// does not start with one, or starts with a decimal or exponent ("3.5", "1e308"), or with
// a number beyond an int (every count of a row is one: layers, widths, degrees, batch).
std::optional<long> Int(const std::string& s) {
  const std::string t = Trim(s);
  if (t.empty() || !std::isdigit(static_cast<unsigned char>(t[0]))) return std::nullopt;
  size_t digits = 0;
  while (digits < t.size() && std::isdigit(static_cast<unsigned char>(t[digits]))) ++digits;
  if (digits > 10) return std::nullopt;
  if (digits < t.size() && (t[digits] == '.' || t[digits] == 'e' || t[digits] == 'E')) return std::nullopt;
  const long v = std::strtol(t.substr(0, digits).c_str(), nullptr, 10);
  if (v > std::numeric_limits<int>::max()) return std::nullopt;
  return v;
}

// The first integer after one of the patterns (a regex with one capture group).
std::optional<long> FromNotes(const std::string& notes, const char* pattern) {
  std::smatch m;
  const std::regex re(pattern, std::regex::icase);
  if (std::regex_search(notes, m, re)) return std::strtol(m[1].str().c_str(), nullptr, 10);
  return std::nullopt;
}

RowResult Row(const spec::ValidationTable& t, const spec::CsvRow& row, bool ok, std::string reason) {
  RowResult r;
  r.id = t.Get(row, "id");
  if (r.id.empty()) r.id = fmt::format("line{}", row.line);
  r.kind = t.Get(row, "measured_metric");
  r.group = r.id.substr(0, r.id.find('_'));
  r.ok = ok;
  r.reason = std::move(reason);
  return r;
}

// Whether two chips sit in the same server fabric: the same scale-up link (name, bandwidth,
// domain) and the same scale-out NIC (name, bandwidth), as the A100 SXM4 40 GB and 80 GB do.
bool SameLinks(const hw::Chip& a, const hw::Chip& b) {
  auto same = [](const hw::Link& x, const hw::Link& y) {
    return x.name == y.name && x.bandwidth.value() == y.bandwidth.value() && x.domain == y.domain;
  };
  return same(a.scale_up, b.scale_up) && same(a.scale_out, b.scale_out);
}

// The cluster preset of a chip preset: a DGX/HGX-style one first, else any naming the chip;
// for a chip no preset names, the preset of a chip with the same links (SameLinks) with the
// chip swapped in — its measured link efficiencies and latencies describe that fabric, which
// the chip's bare links (train::ClusterFromChipLinks, at 100 % efficiency) do not.
std::optional<hw::Cluster> ClusterFor(const std::string& chip_preset) {
  static std::map<std::string, std::optional<hw::Cluster>> cache;
  auto it = cache.find(chip_preset);
  if (it != cache.end()) return it->second;
  auto pick = [](const std::function<bool(const hw::Cluster&)>& fits) {
    std::optional<hw::Cluster> best;
    int best_rank = 99;
    for (const std::string& name : spec::ListClusterPresets()) {
      Diagnostics diag;
      auto c = spec::LoadClusterPreset(name, diag);
      if (!c || !fits(*c)) continue;
      // Single-site vendor reference systems first; multi-site presets last.
      const int rank = (name.rfind("dgx-", 0) == 0 || name.rfind("hgx-", 0) == 0) ? 0 : c->sites.count > 1 ? 2 : 1;
      if (rank < best_rank) best = c, best_rank = rank;
    }
    return best;
  };
  std::optional<hw::Cluster> best = pick([&](const hw::Cluster& c) { return c.chip == chip_preset; });
  if (!best) {
    Diagnostics diag;
    if (auto chip = spec::LoadChipPreset(chip_preset, diag)) {
      best = pick([&](const hw::Cluster& c) {
        Diagnostics d;
        auto other = spec::LoadChipPreset(c.chip, d);
        return other && other->vendor == chip->vendor && SameLinks(*other, *chip);
      });
      if (best) best->name += " fabric with " + chip_preset, best->chip = chip_preset;
    }
  }
  cache.emplace(chip_preset, best);
  return best;
}

// Models: MoE and MLA rows by their preset (the row's columns cannot describe them fully),
// dense rows from the columns.
std::optional<model::Architecture> ModelFor(const spec::ValidationTable& t, const spec::CsvRow& row, std::string* why) {
  const std::string name = Lower(t.Get(row, "model"));
  static const std::pair<const char*, const char*> kPresets[] = {
      {"deepseek-v3", "deepseek-v3"},   {"gpt-oss-120b", "gpt-oss-120b"}, {"qwen3-235b", "qwen3-235b-a22b"},
      {"qwen3-30b", "qwen3-30b-a3b"},   {"mixtral 8x7b", "mixtral-8x7b"}, {"mixtral-8x7b", "mixtral-8x7b"},
  };
  for (const auto& [key, preset] : kPresets) {
    if (name.find(key) != std::string::npos) {
      Diagnostics diag;
      auto a = spec::LoadModelByName(preset, diag);
      if (!a) {
        *why = "model preset " + std::string(preset) + " failed to load";
        return a;
      }
      // A slice of the model (this project's single-GPU runs train a few of its layers):
      // the row's layer count, when it names fewer layers than the preset has.
      if (auto layers = Int(t.Get(row, "layers")); layers && *layers >= 1 && *layers < a->layers) {
        a->layers = int(*layers);
        a->name += fmt::format(" ({} layers)", a->layers);
      }
      return a;
    }
  }
  if (!Trim(t.Get(row, "moe_experts")).empty()) {
    *why = "MoE model '" + t.Get(row, "model") + "' has no preset";
    return std::nullopt;
  }
  model::Architecture a;
  a.name = t.Get(row, "model");
  auto layers = Int(t.Get(row, "layers")), hidden = Int(t.Get(row, "hidden")), heads = Int(t.Get(row, "heads"));
  auto kv = Int(t.Get(row, "kv_heads")), ffn = Int(t.Get(row, "ffn_hidden")), vocab = Int(t.Get(row, "vocab"));
  auto seq = Int(t.Get(row, "seq_len"));
  if (!layers || !hidden || !heads || !ffn || !vocab) {
    *why = "missing field: layers/hidden/heads/ffn_hidden/vocab";
    return std::nullopt;
  }
  a.layers = int(*layers), a.hidden = int(*hidden), a.heads = int(*heads), a.kv_heads = kv ? int(*kv) : int(*heads);
  a.ffn_hidden = int(*ffn), a.vocab = int(*vocab), a.max_positions = seq ? int(*seq) : 2048;
  // Architecture families as their papers describe them: GPT-3/Megatron GPT (Brown et al.
  // 2020): LayerNorm, GeLU, biases, learned positions. Nemotron-4 (NVIDIA 2024): LayerNorm,
  // squared ReLU, RoPE. Llama and the rest: RMSNorm, SwiGLU, RoPE. MPT as llm-foundry's
  // benchmark yamls build it (scripts/train/yamls/pretrain/mpt-*.yaml at b2a43a147 and
  // 5e85bd62d set only attn_impl, so MPTConfig's defaults hold: learned positions, no ALiBi,
  // biases (no_bias False), tied embeddings): LayerNorm, GeLU. The rows' NumParams agree
  // (MPT-1B: 1 315 950 592 counts the 2048 x 2048 position table and the biases).
  if (Has(name, "gpt")) {
    a.norm = model::Norm::kLayerNorm, a.mlp = model::MlpKind::kGelu, a.bias = model::Bias::kAll;
    a.positions = model::Positions::kLearned;
  } else if (Has(name, "mpt")) {
    a.norm = model::Norm::kLayerNorm, a.mlp = model::MlpKind::kGelu, a.bias = model::Bias::kAll;
    a.positions = model::Positions::kLearned, a.tied_embeddings = true;
  } else if (Has(name, "nemotron")) {
    a.norm = model::Norm::kLayerNorm, a.mlp = model::MlpKind::kSquaredRelu;
  }
  model::ResolveDefaults(a);
  if (!model::Validate(a).empty()) {
    *why = "model columns are inconsistent: " + model::Validate(a).front().message;
    return std::nullopt;
  }
  return a;
}

// Reads a supplement file of data/validation/ (ReadSettingsCsv) whose columns are `want`, the
// last a source every record must give, and passes each record with its "file:line" to
// `each`, which returns an error message or "". The first error ends the reading and is
// returned ("" when every record is read).
std::string EachSupplementRecord(
    const char* name, const std::vector<std::string>& want,
    const std::function<std::string(const std::vector<std::string>& r, const std::string& where)>& each) {
  const SettingsCsv csv = ReadSettingsCsv(name, want);
  if (!csv.error.empty()) return csv.error;
  for (size_t i = 0; i < csv.records.size(); ++i) {
    const auto& r = csv.records[i];
    const std::string where = fmt::format("{}:{}", csv.path, csv.lines[i]);
    if (r.size() != want.size() || Trim(r.back()).empty()) {
      return where + ": every row needs " + Join(std::vector<std::string>(want.begin(), want.end() - 1), ", ") +
             " and a non-empty source";
    }
    if (std::string e = each(r, where); !e.empty()) return e;
  }
  return "";
}

// What a row's own submitted configuration states and the row leaves out
// (data/validation/training-settings.csv, README beside it), by row id.
struct RowSettings {
  int virtual_stages = 0;  // 0: not stated
  bool tp_comm_overlap = false;
  train::TpOverlap tp_overlap;  // TE defaults with the run's ub_cfg overrides
  bool pp_comm_overlap = false;  // Megatron overlap_p2p_comm (interleaved schedule only)
  // Where the run's own files name them: the fused-attention kernel it ran and the dtype it
  // reduced the data-parallel gradients in (else the source-wide rules below apply).
  std::optional<ops::AttentionKernel> attention_kernel;
  std::optional<DType> grad_dtype;
  int offload_layers = 0;  // Megatron-Core cpu_offloading_num_layers (0: none stated)
  bool fp8_params = false;  // weights stored in fp8 (NeMo fp8_params / FP8_PARAMS=True)
  // The MLP activation's input stored in fp8 (Megatron-Core activation_func_fp8_input_store:
  // NeMo's MLPerf LoRA configs FP8_ACT / FP8_ACTIVATION).
  bool fp8_activation_input = false;
  double dp_bucket_mb = 0;  // Apex DistributedFusedAdam bucket_cap_mb (0: not stated)
  std::vector<std::string> recompute_modules;  // Megatron-Core selective recompute modules (empty: not stated)
  graph::RecomputeModules recompute;           // the same, parsed
};
struct SettingsFile {
  std::map<std::string, RowSettings> by_id;
  std::string error;  // non-empty: the file is malformed; every training row fails with this reason
};
const SettingsFile& TrainingRowSettings() {
  static const SettingsFile file = [] {
    SettingsFile f;
    const std::vector<std::string> want = {"id",
                                           "virtual_stages",
                                           "tp_comm_overlap",
                                           "ub_cfg",
                                           "pp_comm_overlap",
                                           "attention_kernel",
                                           "grad_reduce_dtype",
                                           "offload_layers",
                                           "fp8_params",
                                           "dp_bucket_mb",
                                           "recompute_modules",
                                           "fp8_activation_input",
                                           "source"};
    f.error = EachSupplementRecord(
        "training-settings.csv", want, [&](const std::vector<std::string>& r, const std::string& where) -> std::string {
          // A count column: empty (not stated, `out` stays 0) or a positive integer.
          std::string error;
          const auto count = [&](size_t c, int* out) {
            if (Trim(r[c]).empty()) return true;
            auto v = Int(r[c]);
            if (!v || *v < 1) {
              error =
                  where + ": " + want[c] + " '" + r[c] + "' is not a positive integer (leave it empty when not stated)";
              return false;
            }
            *out = int(*v);
            return true;
          };
          RowSettings s;
          if (!count(1, &s.virtual_stages) || !count(7, &s.offload_layers)) return error;
          {
            std::istringstream names(r[10]);
            for (std::string n; names >> n;) s.recompute_modules.push_back(n);
            std::string bad;
            if (!graph::ParseRecomputeModules(s.recompute_modules, &s.recompute, &bad)) {
              return where + ": recompute_modules '" + bad +
                     "' is unknown or repeated (space-separated Megatron-Core names: core_attn, moe_act, layernorm, "
                     "mla_up_proj, mlp, moe, shared_experts; or mlp_fc1)";
            }
          }
          if (const std::string mb = Trim(r[9]); !mb.empty()) {
            char* end = nullptr;
            s.dp_bucket_mb = std::strtod(mb.c_str(), &end);
            if (*end != '\0' || !(s.dp_bucket_mb > 0) || s.dp_bucket_mb > 1e6) {
              return where + ": dp_bucket_mb '" + r[9] +
                     "' is not a size in MiB above 0 (leave it empty when not stated)";
            }
          }
          for (const size_t c : {size_t(2), size_t(4), size_t(8), size_t(11)}) {
            const std::string o = Lower(Trim(r[c]));
            if (o != "true" && o != "false" && !o.empty()) {
              return where + ": " + want[c] + " '" + r[c] + "' must be true, false or empty";
            }
            (c == 2   ? s.tp_comm_overlap
             : c == 4 ? s.pp_comm_overlap
             : c == 8 ? s.fp8_params
                      : s.fp8_activation_input) = o == "true";
          }
          std::string bad;
          if (!train::ParseTpOverlap(r[3], &s.tp_overlap, &bad)) {
            return where + ": ub_cfg " + bad;
          }
          if (!Trim(r[3]).empty() && !s.tp_comm_overlap) {
            return where + ": ub_cfg is given but tp_comm_overlap is not true";
          }
          if (const std::string k = Trim(r[5]); !k.empty()) {
            s.attention_kernel = ops::ParseAttentionKernel(k);
            if (!s.attention_kernel) {
              return where + ": attention_kernel '" + k + "' is not one of " + ops::AttentionKernelNames() +
                     " (leave it empty when not stated)";
            }
          }
          if (const std::string g = Lower(Trim(r[6])); !g.empty()) {
            if (g != "bf16" && g != "fp32") {
              return where + ": grad_reduce_dtype '" + r[6] + "' must be bf16, fp32 or empty";
            }
            s.grad_dtype = g == "bf16" ? DType::kBf16 : DType::kFp32;
          }
          f.by_id[Trim(r[0])] = s;
          return "";
        });
    return f;
  }();
  return file;
}

// The matmul dtype a row's precision text names first (int8, fp8, or bf16/fp16 as 16 bits),
// if any: "int8 (AQT) matmuls, bf16 otherwise" is int8.
std::optional<DType> FirstNamedMatmulDtype(const std::string& text) {
  const std::string low = Lower(text);
  std::optional<DType> first;
  size_t at = std::string::npos;
  for (const auto& [word, dtype] : {std::pair{"int8", DType::kInt8}, std::pair{"fp8", DType::kFp8},
                                    std::pair{"bf16", DType::kBf16}, std::pair{"fp16", DType::kBf16}}) {
    if (const size_t i = low.find(word); i != std::string::npos && i < at) at = i, first = dtype;
  }
  return first;
}
// The ZeRO stage a row's sharding text names, if it names one: ZeRO-1/2/3, PyTorch FSDP's
// FULL_SHARD / SHARD_GRAD_OP, "FSDP" (stage 3), "none".
std::optional<int> NamedZeroStage(const std::string& text) {
  const std::string low = Lower(text);
  if (low.find("zero-3") != std::string::npos || low.find("full_shard") != std::string::npos) return 3;
  if (low.find("zero-2") != std::string::npos || low.find("shard_grad_op") != std::string::npos) return 2;
  if (low.find("zero-1") != std::string::npos) return 1;
  if (low.find("fsdp=0") != std::string::npos) return std::nullopt;
  if (low.find("fsdp") != std::string::npos) return 3;
  if (Trim(low) == "none") return 0;
  return std::nullopt;
}
// The recompute a row's recompute text names as a word of its own, if any ("see notes": none).
std::optional<graph::Recompute> NamedRecompute(const std::string& text) {
  const std::string low = Lower(Trim(text));
  if (low.rfind("full", 0) == 0) return graph::Recompute::kFull;
  if (low.rfind("selective", 0) == 0) return graph::Recompute::kSelective;
  if (low.rfind("none", 0) == 0) return graph::Recompute::kNone;
  return std::nullopt;
}

// What a row leaves out of its layout or states only in prose ("16 (x FSDP 48)", "see
// notes"): data/validation/training-layouts.csv, from the run's submitted launch scripts, by
// row id. Empty cells are not stated.
struct RowLayout {
  int tp = 0, pp = 0, dp = 0, micro_batch = 0, shard_group = 0, zero_stage = -1;
  std::optional<bool> sequence_parallel;
  std::optional<graph::Recompute> recompute;
  std::optional<DType> precision;
  // "int8-tff": int8 with MaxText's tff_quant, the output projection and the MLP quantized
  // in the forward only (train::TrainSettings::forward_only_quant).
  bool tff_quant = false;
  // The torus the run's slice was (a TPU slice's topology, "8x16x48"): its scale-up domain
  // instead of the cluster preset's whole pod. Empty: the preset's.
  std::vector<int> torus_dims;
};
struct LayoutFile {
  std::map<std::string, RowLayout> by_id;
  std::string error;
};
const LayoutFile& TrainingRowLayouts() {
  static const LayoutFile file = [] {
    LayoutFile f;
    const std::vector<std::string> want = {
        "id",         "tp",          "pp",        "dp",        "micro_batch", "sequence_parallel",
        "zero_stage", "shard_group", "recompute", "precision", "torus_dims",  "source"};
    f.error = EachSupplementRecord(
        "training-layouts.csv", want, [&](const std::vector<std::string>& r, const std::string& where) -> std::string {
          RowLayout x;
          std::string error;
          const auto count = [&](size_t c, int* out, long lo) {
            if (Trim(r[c]).empty()) return true;
            auto v = Int(r[c]);
            if (!v || *v < lo || *v > 100000000) {
              error = where + ": " + want[c] + " '" + r[c] + "' is not a whole number from " + std::to_string(lo) +
                      " (leave it empty when not stated)";
              return false;
            }
            *out = int(*v);
            return true;
          };
          if (!count(1, &x.tp, 1) || !count(2, &x.pp, 1) || !count(3, &x.dp, 1) || !count(4, &x.micro_batch, 1) ||
              !count(6, &x.zero_stage, 0) || !count(7, &x.shard_group, 1)) {
            return error;
          }
          if (x.zero_stage > 3) {
            return where + ": zero_stage '" + r[6] + "' must be 0 to 3";
          }
          if (const std::string sp = Lower(Trim(r[5])); !sp.empty()) {
            if (sp != "true" && sp != "false") {
              return where + ": sequence_parallel '" + r[5] + "' must be true, false or empty";
            }
            x.sequence_parallel = sp == "true";
          }
          if (const std::string rc = Lower(Trim(r[8])); !rc.empty()) {
            if (rc != "none" && rc != "selective" && rc != "full") {
              return where + ": recompute '" + r[8] + "' must be none, selective, full or empty";
            }
            x.recompute = rc == "none"   ? graph::Recompute::kNone
                          : rc == "full" ? graph::Recompute::kFull
                                         : graph::Recompute::kSelective;
          }
          if (const std::string pr = Lower(Trim(r[9])); !pr.empty()) {
            if (pr != "bf16" && pr != "fp8" && pr != "int8" && pr != "int8-tff") {
              return where + ": precision '" + r[9] + "' must be bf16, fp8, int8, int8-tff or empty";
            }
            x.precision = pr == "bf16" ? DType::kBf16 : pr == "fp8" ? DType::kFp8 : DType::kInt8;
            x.tff_quant = pr == "int8-tff";
          }
          if (const std::string dims = Trim(r[10]); !dims.empty()) {
            std::istringstream in(dims);
            for (std::string d; std::getline(in, d, 'x');) {
              const std::string n = Trim(d);
              const auto v = Int(n);
              if (!v || *v < 1 || *v > 100000 || n.find_first_not_of("0123456789") != std::string::npos) {
                return where + ": torus_dims '" + r[10] + "' is not chips per dimension joined by x, e.g. 8x16x48";
              }
              x.torus_dims.push_back(int(*v));
            }
          }
          if (!f.by_id.emplace(Trim(r[0]), x).second) return where + ": row id " + Trim(r[0]) + " is listed twice";
          return "";
        });
    return f;
  }();
  return file;
}

// What an MLPerf time-to-train row leaves out: the tokens its scored runs trained, their
// evaluations and the score's RCP scaling (data/validation/mlperf-time-to-train.csv, made by
// scripts/mlperf_time_to_train.py from the submissions' result logs), by row id.
struct TimeToTrain {
  double trained_tokens = 0, evals = 0, eval_tokens = 0, rcp_scaling = 1;
};
struct TimeToTrainFile {
  std::map<std::string, TimeToTrain> by_id;
  std::string error;
};
const TimeToTrainFile& TimeToTrainRows() {
  static const TimeToTrainFile file = [] {
    TimeToTrainFile f;
    const std::vector<std::string> want = {"id",          "scored_runs", "trained_tokens", "evals",
                                           "eval_tokens", "rcp_scaling", "logged_minutes", "source"};
    f.error = EachSupplementRecord(
        "mlperf-time-to-train.csv", want,
        [&](const std::vector<std::string>& r, const std::string& where) -> std::string {
          auto number = [&](size_t c, double* out) { return spec::ParseDoubleText(r[c], out) && *out > 0; };
          TimeToTrain x;
          if (!number(2, &x.trained_tokens) || !number(3, &x.evals) || !number(4, &x.eval_tokens) ||
              !number(5, &x.rcp_scaling)) {
            return where +
                   ": every row needs an id, positive trained_tokens, evals, eval_tokens and rcp_scaling, and a "
                   "source";
          }
          f.by_id[Trim(r[0])] = x;
          return "";
        });
    return f;
  }();
  return file;
}

// Minutes to train: the scored runs' tokens at the simulated step rate, plus each
// evaluation — a forward-only pass of the eval tokens through the same layout: each data-
// parallel replica's share in micro-batches of the training size, pipelined through the
// stages (fill (pp−1)/v of the slowest stage's forward, one send per stage boundary). With
// `pad_to_global_batch` the eval set is padded up to whole global batches, each run as its
// own pipelined pass (NeMo's pad_samples_to_global_batch_size). The eval's own launch and
// metric reduction are not modelled. Times the score's RCP scaling.
struct TrainMinutes {
  double minutes = 0, eval_s = 0;  // eval_s: one evaluation
};
TrainMinutes TimeToTrainMinutes(const TimeToTrain& x, const train::TrainResult& r, const graph::Parallelism& p,
                                const train::TrainSettings& s, bool pad_to_global_batch) {
  double fwd = 0, p2p = 0;
  for (const auto& st : r.stages) fwd = std::max(fwd, st.fwd.value()), p2p = std::max(p2p, st.p2p.value());
  const double v = double(std::max(1, r.virtual_stages));
  const double sequences = std::ceil(x.eval_tokens / double(s.seq_len));
  // Pipelined passes, and the micro-batches of each: whole global batches of a step's
  // micro-batches when padded, else one pass over each replica's share.
  double passes = 1, microbatches = std::ceil(std::ceil(sequences / double(p.dp)) / double(s.micro_batch));
  if (pad_to_global_batch) {
    microbatches = double(std::max(1L, r.microbatches));
    passes = std::ceil(sequences / (double(p.dp) * double(s.micro_batch) * microbatches));
  }
  const double eval_s = passes * ((microbatches + double(p.pp - 1) / v) * fwd + double(p.pp - 1) * p2p);
  return {x.rcp_scaling * (x.trained_tokens / r.tokens_per_s + x.evals * eval_s) / 60.0, eval_s};
}

}  // namespace

RowResult SimulateTrainingRow(const spec::ValidationTable& t, const spec::CsvRow& row, ChipCache& chips) {
  const std::string& metric = t.Get(row, "measured_metric");
  const std::string& unit = t.Get(row, "unit");
  const std::string& notes = t.Get(row, "notes");
  const std::string& id = t.Get(row, "id");
  static const char* kThroughput[] = {"tflops_per_chip", "step_time_s",   "tokens_per_s",
                                      "tokens_per_s_per_chip", "samples_per_s", "mfu"};
  if (std::find(std::begin(kThroughput), std::end(kThroughput), metric) == std::end(kThroughput)) {
    if (metric != "time_to_train_min") return Row(t, row, false, "metric not modelled: " + metric);
  }
  // A time-to-train row is its submission's training step times the tokens its scored runs
  // trained, plus their evaluations.
  const TimeToTrain* ttt = nullptr;
  std::string settings_id = id;
  if (metric == "time_to_train_min") {
    const TimeToTrainFile& f = TimeToTrainRows();
    if (!f.error.empty()) return Row(t, row, false, f.error);
    auto it = f.by_id.find(id);
    if (it == f.by_id.end())
      return Row(t, row, false,
                 "time_to_train_min: the tokens trained are neither in the row nor in "
                 "data/validation/mlperf-time-to-train.csv");
    // The configuration the row leaves out (virtual stages, overlaps): its own entry in the
    // settings file, else its step-time twin's — read, or known to be absent, for that row.
    const SettingsFile& settings = TrainingRowSettings();
    const bool suffixed = id.size() > 4 && id.compare(id.size() - 4, 4, "_ttt") == 0;
    const std::string twin_id = suffixed ? id.substr(0, id.size() - 4) + "_step" : "";
    const bool twin = !twin_id.empty() && std::any_of(t.rows.begin(), t.rows.end(), [&](const spec::CsvRow& x) {
      return Trim(t.Get(x, "id")) == twin_id;
    });
    if (!settings.by_id.count(id) && !TrainingRowLayouts().by_id.count(id)) {
      if (!twin)
        return Row(t, row, false,
                   "time_to_train_min: neither data/validation/training-settings.csv, training-layouts.csv nor a "
                   "step-time row of the same submission (<id>_step) gives the configuration (layout, virtual "
                   "stages, overlaps) to simulate");
      settings_id = twin_id;
    }
    ttt = &it->second;
  }
  double measured = 0;
  {
    const std::string v = Trim(t.Get(row, "measured_value"));
    char* end = nullptr;
    measured = std::strtod(v.c_str(), &end);
    if (v.empty() || *end != '\0' || !(measured > 0)) return Row(t, row, false, "missing field: measured_value");
  }

  const ChipCache::Entry& chip = chips.Get(t.Get(row, "hardware"));
  if (!chip.model) return Row(t, row, false, chip.error);

  std::string why;
  auto arch = ModelFor(t, row, &why);
  if (!arch) return Row(t, row, false, why);

  graph::Parallelism p;
  // A parallel degree: the cell's whole number, the default where the cell is empty; a cell
  // that is neither (a negative, decimal or absurd count) fails the row.
  std::string bad_cell;
  auto col = [&](const char* c, int dflt) {
    const std::string cell = Trim(t.Get(row, c));
    if (cell.empty()) return dflt;
    auto v = Int(cell);
    if (!v || *v < 1 || *v > 100000000) {
      if (bad_cell.empty()) bad_cell = fmt::format("column {}: '{}' is not a count from 1 to 10^8", c, cell);
      return dflt;
    }
    return int(*v);
  };
  // A layout from data/validation/training-layouts.csv replaces the row's prose ("1 (FSDP 64)",
  // "see notes"); a count the row states as a bare number must agree with it.
  const LayoutFile& layouts = TrainingRowLayouts();
  if (!layouts.error.empty()) return Row(t, row, false, layouts.error);
  const auto layout_it = layouts.by_id.find(id);
  const RowLayout* layout = layout_it == layouts.by_id.end() ? nullptr : &layout_it->second;
  if (layout) {
    for (const auto& [c, given] :
         {std::pair{"tp", layout->tp}, std::pair{"pp", layout->pp}, std::pair{"dp", layout->dp}}) {
      const std::string text = Trim(t.Get(row, c));
      const bool bare = !text.empty() && text.find_first_not_of("0123456789") == std::string::npos;
      const auto cell = bare ? Int(text) : std::nullopt;
      if (given > 0 && cell && *cell != given) {
        return Row(t, row, false,
                   fmt::format("data/validation/training-layouts.csv gives {} {}, the row {}", c, given, *cell));
      }
    }
  }
  auto layout_col = [&](const char* c, int given) { return given > 0 ? given : col(c, 1); };
  p.tp = layout_col("tp", layout ? layout->tp : 0), p.pp = layout_col("pp", layout ? layout->pp : 0);
  p.dp = layout_col("dp", layout ? layout->dp : 0), p.cp = col("cp", 1), p.ep = col("ep", 1);
  const long chips_in_row = col("num_chips", int(p.chips()));
  const int seq_len = col("seq_len", 2048);
  if (!bad_cell.empty()) return Row(t, row, false, bad_cell);
  if (long(p.chips()) != chips_in_row) {
    return Row(t, row, false, fmt::format("tp·pp·dp·cp = {} differs from num_chips = {}", p.chips(), chips_in_row));
  }

  // Settings from the row. Megatron-LM of 2021–22 (Narayanan et al. 2021, Korthikanti et al.
  // 2022) ran unfused attention with dropout and, in 2021, no sequence parallelism; later
  // Megatron/NeMo/MBridge/MLPerf use fused (flash) attention, no dropout, and sequence
  // parallelism with TP (NeMo's default for tp > 1).
  const bool megatron_2022 = id.rfind("meg21_", 0) == 0 || id.rfind("korth22_", 0) == 0;
  const std::string& rc = t.Get(row, "recompute");
  train::TrainSettings s;
  s.seq_len = seq_len;
  s.recompute = Has(rc, "full") || Has(rc, "checkpointing") ? graph::Recompute::kFull
                : Has(rc, "selective")                      ? graph::Recompute::kSelective
                                                            : graph::Recompute::kNone;
  // Full recompute of only some layers (NeMo's activations_checkpoint_num_layers, "ACL=21" in
  // an MLPerf config): with the block method ("ACM=block") the first 21 layers of each stage
  // (train.recompute_layers); another method is not modelled, and such a row is skipped
  // rather than run as all layers or none.
  if (s.recompute == graph::Recompute::kFull) {
    if (auto n = FromNotes(rc, R"(\bACL\s*=\s*(\d+))"); n && *n < arch->layers / std::max(1, p.pp)) {
      if (!Has(rc, "acm=block")) {
        return Row(t, row, false,
                   fmt::format("recompute: {} of the {} layers of each stage recomputed by a method other than "
                               "block, which the simulator does not model",
                               *n, arch->layers / std::max(1, p.pp)));
      }
      s.recompute_layers = int(*n);
    }
  }
  p.sequence_parallel = p.tp > 1 && !Has(rc, "no sequence parallelism") &&
                        (Has(rc, "sequence parallelism") || !megatron_2022);
  s.flash_attention = !megatron_2022;
  s.dropout = megatron_2022;
  // The fused-attention kernel the source ran, where it is documented as older than the
  // chip's best (ops/calibration.h):
  // * MosaicML llm-foundry MPT tables: attn_impl: triton in every benchmark config
  //   (scripts/train/benchmarking/submit_benchmarks.py default, never overridden by its
  //   sweep), i.e. flash-attn 1.0.x's flash_attn_triton.py (the kernel with ALiBi support).
  // * NeMo 24.07 performance summary: NeMo-Framework-Launcher tag 24.07 (8325688d)
  //   launcher_scripts/conf/config.yaml sets env NVTE_FUSED_ATTN: 0 for every run, so
  //   Transformer Engine takes its flash-attn 2 backend; only the GPT-3 175B configs set
  //   NVTE_FUSED_ATTN=1 (cuDNN fused attention, the best kernel).
  const std::string& source = t.Get(row, "source");
  const bool llm_foundry = id.rfind("mpt_", 0) == 0 || Has(source, "llm-foundry");
  if (llm_foundry) {
    s.attention_kernel = ops::AttentionKernel::kFlash1Triton;
  } else if (id.rfind("nemo2407_", 0) == 0 && !Has(t.Get(row, "model"), "gpt-3") && !Has(t.Get(row, "model"), "gpt3")) {
    s.attention_kernel = ops::AttentionKernel::kFlash2;
  }
  s.precision = Has(t.Get(row, "precision"), "fp8") ? DType::kFp8 : DType::kBf16;
  // Megatron-Bridge "FP8-CS" = Transformer Engine per-tensor current scaling.
  s.fp8_current_scaling = s.precision == DType::kFp8 && Has(t.Get(row, "precision"), "fp8-cs");
  // Megatron-Bridge stores fp8 weights in both its fp8 recipes: its performance scripts take
  // FP8-CS from bf16_with_fp8_current_scaling_mixed() and FP8-MX from bf16_with_mxfp8_mixed()
  // (scripts/performance/utils/precision.py), and both set fp8_param_gather = True
  // (src/megatron/bridge/training/mixed_precision.py, at 00b7660b and c0b9a0003); no
  // performance config overrides it.
  s.fp8_params = s.precision == DType::kFp8 && id.rfind("mbridge", 0) == 0;
  const std::string& zero = t.Get(row, "zero_or_fsdp");
  s.zero_stage = Has(zero, "zero-3") || Has(zero, "full_shard") || Has(zero, "fsdp=1") ? 3
                 : Has(zero, "shard_grad_op") || Has(zero, "zero-2")                    ? 2
                 : Has(zero, "none")                                                    ? 0
                                                                                        : 1;
  // Megatron-LM before Megatron-Core's DDP (2021–22: v2.x/v3.0, the code of Narayanan et al.
  // 2021 and Korthikanti et al. 2022) all-reduced the data-parallel gradients after the whole
  // backward pass: `train_step` in megatron/training.py calls `allreduce_gradients()` on each
  // model chunk after `forward_backward_func` returns (local DDP, timer
  // "backward-params-all-reduce"). Overlap with backward (`overlap_grad_reduce`) arrived with
  // Megatron-Core's distributed data parallel in 2023. So those rows get no DP overlap.
  s.overlap_dp_comm = !megatron_2022 && !Has(notes, "no dp-gradient overlap");
  s.overlap_tp_comm = Has(notes, "tp comm overlap");  // the submitted config says so
  // The dtype the data-parallel gradients are reduced in, where the source's framework
  // defaults to fp32 (every other source reduces in bf16, as modelled by default):
  // * llm-foundry "MP mode DEFAULT": Composer's get_mixed_precision('DEFAULT') sets FSDP
  //   MixedPrecision(reduce_dtype=torch.float32) (composer/distributed/mosaic_parallelism.py;
  //   'PURE' reduces in the 16-bit dtype).
  // * NeMo 24.07 pre-training: the launcher configs (NeMo-Framework-Launcher tag 24.07, 8325688d,
  //   conf/training/{gpt3/175b,llama/llama2_*,llama/llama3_*}.yaml) use optim
  //   distributed_fused_adam without grad_sync_dtype; NeMo's megatron_base_model.py
  //   (NeMo 6f9f731e, July 2024) sets only dtype=fp32 and param_sync_dtype, and Apex DistributedFusedAdam's
  //   grad_sync_dtype defaults to dtype. Nemotron-4 340B's config sets grad_sync_dtype: bf16.
  //   MLPerf GPT-3 (conf/optim/distributed_fused_adam.yaml: grad_sync_dtype: bf16) and the
  //   Megatron-Bridge 25.11 performance configs (ddp.grad_reduce_in_fp32 = False) reduce in
  //   bf16.
  const bool nemo2407_pretrain = id.rfind("nemo2407_", 0) == 0 && id.rfind("nemo2407_ft_", 0) != 0;
  if ((id.rfind("mpt_", 0) == 0 && Has(t.Get(row, "precision"), "mp mode default")) ||
      (nemo2407_pretrain && !Has(t.Get(row, "model"), "nemotron"))) {
    s.grad_dtype = DType::kFp32;
  }
  // "autocast, fp32 params": PyTorch's AMP recipe (this project's scripts/gpu/train_step.py).
  s.autocast_fp32_params = Has(t.Get(row, "precision"), "autocast, fp32 params");
  // torch.compile: this project's train_step.py --compile rows (every other source runs eager
  // autograd: Megatron, NeMo, MLPerf, llm-foundry without compile_config).
  s.compiled = Has(source, "--compile") || Has(notes, "torch.compile");
  // llm-foundry runs under Composer, which updates the model's train metrics after every
  // micro-batch's backward on that micro-batch's logits (composer/trainer/trainer.py
  // _train_microbatch → _eval_train_metrics, v0.16–0.17); llm-foundry's MPT defines two,
  // LanguageCrossEntropy and LanguagePerplexity (llmfoundry/models/mpt/modeling_mpt.py,
  // use_train_metrics default True at b2a43a147 and 5e85bd62d; no benchmark yaml sets it).
  if (llm_foundry) s.logit_metrics = 2;
  // llm-foundry shards with PyTorch FSDP, each transformer block its own unit (Composer's
  // FSDP auto-wrap of MPTBlock), so SHARD_GRAD_OP reduce-scatters the gradients and
  // all-gathers the weights one block at a time: a block's parameters per call.
  if (llm_foundry && arch->layers > 0) s.dp_bucket_params = model::Count(*arch).non_embedding_params / arch->layers;
  // ... and that sharding is PyTorch FSDP's, which casts and pre-divides each unit's
  // unsharded gradient before its reduce-scatter (train::TrainSettings::pytorch_fsdp).
  if (llm_foundry) s.pytorch_fsdp = true;
  // Megatron-Bridge's MoE models run Megatron-Core's TEGroupedMLP (moe_grouped_gemm = True in
  // its Qwen3-MoE, DeepSeek and GPT-OSS providers at 00b7660b), i.e. Transformer Engine's
  // GroupedLinear: one cuBLAS GEMM per local expert, round-robin on 4 compute streams
  // (TE release_v2.9, pinned by that commit's pyproject.toml: multi_stream_cublas_gemm,
  // get_num_compute_streams() = 4; the CUTLASS grouped GEMM is opt-in, Hopper only, and the
  // perf scripts do not set NVTE_USE_CUTLASS_GROUPED_GEMM). Dense rows have no expert GEMMs.
  if (id.rfind("mbridge", 0) == 0 || Has(source, "megatron-bridge")) s.expert_gemm_streams = 4;
  // Megatron-Bridge trains DeepSeek-V3 with one multi-token-prediction module: 25.11's
  // performance configs call deepseek_v3_pretrain_config (recipes/deepseek/deepseek_v3.py,
  // mtp_num_layers default 1) without overriding it, and 26.02's set cfg.model.mtp_num_layers
  // = 1 (scripts/performance/configs/deepseek/deepseek_llm_pretrain.py).
  if ((id.rfind("mbridge", 0) == 0 || Has(source, "megatron-bridge")) && Has(arch->name, "deepseek-v3"))
    s.mtp_layers = 1;
  // LoRA fine-tuning rows: the rank from the row ("LoRA r=16", "rank 16"), else NeMo's
  // default adapter_dim 32; targets: the MLPerf llama2_70b_lora benchmark adapts q, k, v, o
  // (its reference's PEFT target_modules, NVIDIA's NeMo config 'attention' = QKV + dense),
  // NeMo 1.x fine-tuning (megatron_gpt_finetuning_config.yaml lora_tuning) the fused QKV only.
  if (Has(id, "lora") || Has(notes, "lora") || Has(t.Get(row, "model"), "lora")) {
    auto rank = FromNotes(t.Get(row, "model"), R"(\br\s*=\s*(\d+))");
    if (!rank) rank = FromNotes(notes, R"(rank\s*(\d+))");
    s.lora_rank = rank ? int(*rank) : 32;
    s.lora_targets = id.rfind("mlpt", 0) == 0 ? std::vector<std::string>{"qkv", "proj"} : std::vector<std::string>{"qkv"};
    // NVIDIA's MLPerf v4.1 llama2_70b_lora submissions (NeMo 24.09-alpha.rc0) drop out each
    // adapter's input: conf/megatron_gpt_peft_tuning_config.yaml lora_tuning adapter_dropout
    // ${LORA_DROPOUT,0.1} with dropout_position "pre", and no config sets LORA_DROPOUT (eos,
    // eos_n8, eos_n128, h200, b200_preview). NeMo's fine-tuning default is 0.0.
    // Their configs_common.sh exports LORA_A2A=1 (a2a_experimental: the row-parallel adapter's
    // output goes back to the sequence shard by all-to-all), and tp_comm_overlap_disable_qkv
    // stays at its default True, so under SP the qkv adapter reads TE's gathered norm output
    // (the default of train.lora_gathered_input).
    if (id.rfind("mlptv41_lora_nvidia_", 0) == 0) s.lora_dropout = 0.1, s.lora_all_to_all = true;
  }
  if (auto mb = FromNotes(notes, R"((?:micro-?batch(?: size)?|mbs)\s*:?\s*(\d+))")) s.micro_batch = *mb;
  // JAX runs (Google's MLPerf submissions, MaxText and PAX): XLA assigns every buffer at compile
  // time, so none of the PyTorch caching allocator's fragmentation the default overhead
  // stands for (train/settings.h) applies.
  // Their weights are fp32 (MaxText weight_dtype float32, praxis fp32 params) and each layer
  // casts them to bf16 as it runs, the gradients coming back fp32: mixed precision over fp32
  // parameters (train::TrainSettings::autocast_fp32_params), with no 16-bit copy kept. FSDP
  // gathers each weight at the matmul that reads it (XLA's partitioner inserts the gather at
  // the dot), not a block at a time.
  if (Has(source, "submitter google") || Has(t.Get(row, "zero_or_fsdp"), "jax")) {
    s.allocator_overhead = 0;
    s.autocast_fp32_params = true;
    s.fsdp_gather_per_weight = true;  // XLA's partitioner gathers each dot's weight at the dot
  }
  if (layout) {
    if (layout->micro_batch > 0) {
      if (auto mb = FromNotes(notes, R"((?:micro-?batch(?: size)?|mbs)\s*:?\s*(\d+))");
          mb && *mb != layout->micro_batch) {
        return Row(t, row, false,
                   fmt::format("data/validation/training-layouts.csv gives micro-batch {}, the row's notes {}",
                               layout->micro_batch, *mb));
      }
      s.micro_batch = layout->micro_batch;
    }
    // What the row states in words must agree with the file: the matmul dtype it names first,
    // a ZeRO stage it names (ZeRO-n, FSDP, SHARD_GRAD_OP, none), a recompute it names.
    const std::string& precision_text = t.Get(row, "precision");
    const std::string& zero_text = t.Get(row, "zero_or_fsdp");
    if (const auto named = FirstNamedMatmulDtype(precision_text);
        named && layout->precision && *named != *layout->precision) {
      return Row(
          t, row, false,
          fmt::format("data/validation/training-layouts.csv gives precision {}, the row '{}'; correct the row or the "
                      "file's entry",
                      pf::Name(*layout->precision), precision_text));
    }
    if (const auto named = NamedZeroStage(zero_text);
        named && layout->zero_stage >= 0 && *named != layout->zero_stage) {
      return Row(
          t, row, false,
          fmt::format("data/validation/training-layouts.csv gives ZeRO stage {}, the row '{}' (stage {}); correct the "
                      "row or the file's entry",
                      layout->zero_stage, zero_text, *named));
    }
    if (const auto named = NamedRecompute(rc); named && layout->recompute && *named != *layout->recompute) {
      return Row(
          t, row, false,
          fmt::format("data/validation/training-layouts.csv gives recompute {}, the row '{}'; correct the row or the "
                      "file's entry",
                      graph::Name(*layout->recompute), rc));
    }
    if (layout->sequence_parallel) p.sequence_parallel = *layout->sequence_parallel && p.tp > 1;
    if (layout->zero_stage >= 0) s.zero_stage = layout->zero_stage;
    s.shard_group = layout->shard_group;
    if (layout->recompute) s.recompute = *layout->recompute;
    if (layout->precision) s.precision = *layout->precision;
    if (layout->tff_quant) s.forward_only_quant = {"proj", "fc1", "fc2"};
  }
  auto vp = FromNotes(notes, R"(\bVP\s*(\d+))");
  if (!vp) vp = FromNotes(notes, R"(interleaved schedule with (\d+) stages)");
  // Megatron-Core's account_for_embedding_in_pipeline_split / account_for_loss_in_pipeline_split
  // (TransformerConfig), which NeMo's MLPerf configs set with ASYM_PP_EMBED / ASYM_PP_LOSS
  // (mlcommons/training_results_v5.0 NVIDIA llama31_405b: conf/custom.yaml, pretrain.py): the
  // embedding and the loss each take one layer's place in the pipeline split.
  // Megatron-Bridge's recipes set both for Llama 3.1 405B and Qwen3-235B-A22B
  // (src/megatron/bridge/recipes/llama/llama3.py llama31_405b_pretrain_config and
  // recipes/qwen/qwen3_moe.py qwen3_235b_a22b_pretrain_config at 00b7660b, which the 25.11
  // performance configs call): 126 + 2 and 94 + 2 layers, split evenly into the stated
  // pipeline and virtual stages.
  const bool mbridge_asym = (id.rfind("mbridge", 0) == 0 || Has(source, "megatron-bridge")) &&
                            ((arch->layers == 126 && arch->hidden == 16384) || arch->name == "qwen3-235b-a22b");
  const int asym_embed = Has(notes, "asym_pp_embed=true") || mbridge_asym ? 1 : 0;
  const int asym_loss = Has(notes, "asym_pp_loss=true") || mbridge_asym ? 1 : 0;
  // What the run's submitted configuration states beyond the row.
  double dp_bucket_mb = 0;
  const SettingsFile& extra = TrainingRowSettings();
  if (auto it = extra.by_id.find(settings_id); it != extra.by_id.end() || !extra.error.empty()) {
    if (!extra.error.empty()) return Row(t, row, false, extra.error);
    const RowSettings& x = it->second;
    if (x.virtual_stages > 0) {
      if (vp && *vp != x.virtual_stages) {
        return Row(t, row, false,
                   fmt::format("data/validation/training-settings.csv gives {} virtual stages, the row's notes {}",
                               x.virtual_stages, *vp));
      }
      if ((arch->layers + asym_embed + asym_loss) % (p.pp * x.virtual_stages) != 0) {
        return Row(
            t, row, false,
            fmt::format("data/validation/training-settings.csv gives {} virtual stages, which do not divide "
                        "{} layers{} over pp {}",
                        x.virtual_stages, arch->layers,
                        asym_embed + asym_loss > 0 ? " (with the embedding and loss counted as layers)" : "", p.pp));
      }
      vp = x.virtual_stages;
    }
    if (x.tp_comm_overlap) {
      s.overlap_tp_comm = true;
      s.tp_overlap = x.tp_overlap;
    }
    s.overlap_pp_comm = x.pp_comm_overlap;
    if (x.attention_kernel) s.attention_kernel = *x.attention_kernel;
    if (x.grad_dtype) s.grad_dtype = *x.grad_dtype;
    s.offload_layers = x.offload_layers;
    dp_bucket_mb = x.dp_bucket_mb;
    if (!x.recompute_modules.empty()) {
      // Megatron-Core's selective recompute of these modules (recompute_granularity "selective").
      if (s.recompute != graph::Recompute::kNone) {
        return Row(t, row, false,
                   "data/validation/training-settings.csv gives recompute_modules, but the row (or its entry in "
                   "training-layouts.csv) states a recompute of its own");
      }
      s.recompute = graph::Recompute::kSelective;
      s.recompute_module_names = x.recompute_modules;
      s.recompute_modules = x.recompute;
    }
    // Settings that only an fp8 run can have.
    for (const auto& [given, name, to] :
         {std::tuple{x.fp8_params, "fp8_params", &s.fp8_params},
          std::tuple{x.fp8_activation_input, "fp8_activation_input", &s.fp8_activation_input}}) {
      if (!given) continue;
      if (s.precision != DType::kFp8) {
        return Row(
            t, row, false,
            fmt::format("data/validation/training-settings.csv gives {} true, but the row's precision is not fp8",
                        name));
      }
      *to = true;
    }
  }
  // Apex's DistributedFusedAdam (NeMo 1.x's distributed_fused_adam) fills each bucket with
  // bucket_cap_mb MiB of gradients in its sync dtype (apex/contrib/optimizers/
  // distributed_fused_adam.py: bucket_size = 1024 * 1024 * bucket_cap_mb / dtype_size); the
  // sources without a bucket of their own (llm-foundry's is a block, above) run Megatron-Core's
  // default buckets (train/settings.h).
  if (dp_bucket_mb > 0) s.dp_bucket_params = dp_bucket_mb * 1048576.0 / BytesPerElement(s.grad_dtype);
  // ... and lays its 61 layers out over the pipeline as the recipe's layout_map does for
  // pp × vp = 4, 8 or 16 model chunks (deepseek_v3.py at 00b7660b; 26.02's GB300 pp_layout
  // "Et*4|(t*4|)*14tmL" is the same 16 chunks): 64 / chunks layers per chunk, the last chunk
  // 3 fewer with the MTP module and the loss. So the first stage holds its chunks' full share
  // and the last stage 3 layers fewer, plus the MTP layer.
  if (s.mtp_layers == 1 && arch->layers == 61 && p.pp > 1) {
    const int v = vp && *vp > 1 ? int(*vp) : 1, chunks = p.pp * v;
    if (chunks == 4 || chunks == 8 || chunks == 16) {
      s.first_stage_layers = 64 / chunks * v;
      s.last_stage_layers = 64 / chunks * v - 3;
    }
  }
  // The embedding and the loss as pipeline layers (asym_embed, asym_loss above): the first
  // and the last stage hold one transformer layer fewer (Llama 3.1 405B: 126 + 2 = 8 stages
  // × 16, each stage's layers then split into its virtual chunks).
  if (p.pp > 1 && s.first_stage_layers == 0 && s.last_stage_layers == 0 && asym_embed + asym_loss > 0 &&
      (arch->layers + asym_embed + asym_loss) % p.pp == 0) {
    const int per_stage = (arch->layers + asym_embed + asym_loss) / p.pp;
    s.first_stage_layers = per_stage - asym_embed;
    s.last_stage_layers = per_stage - asym_loss;
  }
  if (vp && *vp > 1 && (arch->layers % (p.pp * *vp) == 0 || s.first_stage_layers > 0)) {
    s.schedule = train::Schedule::kInterleaved;
    s.virtual_stages = int(*vp);
    // Megatron-Bridge turns Megatron-Core's overlap_p2p_comm on for every interleaved run
    // and off otherwise, and its performance configs never override it
    // (src/megatron/bridge/training/comm_overlap.py at 00b7660b, the commit of the 25.11
    // performance summary: pp > 1 and vp > 1 → overlap_p2p_comm = True).
    if (id.rfind("mbridge", 0) == 0) s.overlap_pp_comm = true;
  }
  // Megatron overlaps send/recv only in the interleaved schedule (arguments.py turns
  // overlap_p2p_comm off otherwise), so a settings entry that says it did for a row that
  // does not run interleaved contradicts the row.
  if (s.overlap_pp_comm && s.schedule != train::Schedule::kInterleaved) {
    return Row(t, row, false,
               "data/validation/training-settings.csv gives pp_comm_overlap true, but the row does not run the "
               "interleaved schedule, the only one Megatron overlaps send/recv in");
  }
  {
    const std::string gb = Trim(t.Get(row, "global_batch_tokens_or_sequences"));
    auto n = Int(gb);
    if (!n) return Row(t, row, false, "missing field: global_batch_tokens_or_sequences");
    const size_t unit = gb.find_first_not_of("0123456789");
    const std::string rest = unit == std::string::npos ? "" : gb.substr(unit);
    s.global_batch = Has(rest.substr(0, 5), "tok") ? *n / s.seq_len : *n;
  }
  if (s.global_batch % (int64_t(p.dp) * s.micro_batch) != 0) {
    return Row(t, row, false,
               fmt::format("global batch {} is not a multiple of dp {} × micro-batch {}", s.global_batch, p.dp, s.micro_batch));
  }
  if (p.pp > arch->layers || !graph::Validate(p, *arch).empty()) {
    return Row(t, row, false, "parallelism does not suit the model: " + graph::Validate(p, *arch).front().message);
  }

  // The chip's reference cluster, sized to the run.
  auto cluster = ClusterFor(chip.preset);
  std::string cluster_note;
  hw::Cluster cl;
  if (cluster) {
    cl = *cluster;
    cluster_note = cl.name;
  } else {
    cl = train::ClusterFromChipLinks(chip.model->chip(), p.chips());
    cluster_note = "no cluster preset: chip links at 100 % efficiency";
  }
  // The run's own slice, where its layout names one: a torus of these dimensions.
  if (layout && !layout->torus_dims.empty()) {
    if (cl.scale_up.topology != hw::ScaleUpTopology::kTorus) {
      return Row(t, row, false,
                 "data/validation/training-layouts.csv gives torus_dims, but the chip's cluster preset " + cl.name +
                     " is not a torus");
    }
    long slice = 1;
    for (int d : layout->torus_dims) slice *= d;
    if (slice != long(p.chips())) {
      return Row(t, row, false,
                 fmt::format("data/validation/training-layouts.csv gives a torus of {} chips for a run on {}", slice,
                             p.chips()));
    }
    // The slice's links are the preset's: one bandwidth per link, the same on every axis.
    const auto& links = cl.scale_up.dim_link_bandwidth;
    if (!links.empty() && std::any_of(links.begin(), links.end(), [&](BytesPerSec b) { return b != links.front(); })) {
      return Row(t, row, false,
                 "data/validation/training-layouts.csv gives torus_dims, but " + cl.name +
                     " gives its torus axes different link bandwidths, which a reshaped slice cannot keep");
    }
    if (layout->torus_dims.size() > 3) {
      return Row(t, row, false, "data/validation/training-layouts.csv gives a torus of more than 3 dimensions");
    }
    cl.scale_up.dims = layout->torus_dims;
    cl.scale_up.chips = int(slice);
    if (!links.empty()) cl.scale_up.dim_link_bandwidth.assign(layout->torus_dims.size(), links.front());
  }
  const long unit_chips = std::max<long>({1, cl.scale_up.chips, cl.server.chips});
  cl.chips = std::max<long>(unit_chips, (p.chips() + unit_chips - 1) / unit_chips * unit_chips);
  cl.sites.count = 1;

  // Every flash-attn 2 row here reaches the kernel through a layout copy: NeMo 24.07 and
  // NVIDIA's MLPerf v3.1 GPT-3 through Transformer Engine's FlashAttention backend, which
  // transposes Megatron's [s, b, h, d] q, k, v and output (TE v1.8 and 09ba8427), and
  // llm-foundry's flash-attn 2 rows through bert_padding's varlen gather and scatter
  // (TrainSettings::attention_layout_copies).
  s.attention_layout_copies = s.flash_attention && s.attention_kernel == ops::AttentionKernel::kFlash2;
  const train::Simulator sim(*arch, *chip.model, cl);
  train::TrainResult r = sim.Run(p, s, true);
  if (!r.ok) return Row(t, row, false, "not simulated: " + r.reason);
  // The power cap, as `pathfinder train` applies it: a step whose modelled power exceeds the
  // TDP runs at the clock the cap leaves (chips with the TDP-based estimate never throttle).
  double clock_ratio = 1;
  std::string no_power;
  if (const power::ChipPowerModel* pm = chips.PowerModel(chip.model->chip(), &no_power)) {
    spec::CapTrainStep(
        r, [&](const ops::OpModel& m) { return train::Simulator(*arch, m, cl).Run(p, s, true); }, chip.model->chip(),
        chip.model->ceilings(), *pm, s.precision, power::ServerPower{}, 1.0, &clock_ratio);
  }

  double predicted = 0;
  if (metric == "tflops_per_chip") {
    // Sources that count recomputation (Megatron eq. 3, "HFU-style") get our hardware FLOP/s
    // (recompute + LM head included); the others model FLOP/s.
    const bool hw_flops = Has(unit, "recompute") || Has(unit, "hfu");
    predicted = (hw_flops ? r.hardware_flops_per_chip : r.model_flops_per_chip).value() / 1e12;
  } else if (metric == "step_time_s") {
    predicted = r.step.total.value();
  } else if (metric == "tokens_per_s") {
    predicted = r.tokens_per_s;
  } else if (metric == "tokens_per_s_per_chip") {
    predicted = r.tokens_per_s_per_chip;
  } else if (metric == "samples_per_s") {
    predicted = r.samples_per_s;
  } else if (metric == "mfu") {
    predicted = r.mfu * (Has(unit, "%") ? 100.0 : 1.0);
  }
  std::string ttt_note;
  if (ttt != nullptr) {
    // NVIDIA's MLPerf GPT-3 implementations (v3.1–v4.1, conf/custom.yaml: validation_ds
    // pad_samples_to_global_batch_size: True; Oracle's v4.1 runs source NVIDIA's files) pad
    // the 5 660-sequence eval set to whole global batches.
    const bool nemo_gpt3 = (id.rfind("mlptv3", 0) == 0 || id.rfind("mlptv4", 0) == 0) && Has(id, "_gpt3_") &&
                           (Has(id, "_nvidia_") || Has(id, "_oracle_"));
    const TrainMinutes m = TimeToTrainMinutes(*ttt, r, p, s, nemo_gpt3);
    predicted = m.minutes;
    ttt_note =
        fmt::format("; {:.4g} tokens at the step's rate + {:g} evals of {:.3g} s{}", ttt->trained_tokens, ttt->evals,
                    m.eval_s, ttt->rcp_scaling != 1 ? fmt::format(", × RCP scaling {:g}", ttt->rcp_scaling) : "");
  }
  RowResult out = Row(
      t, row, true,
      fmt::format(
          "{}{} tp{} pp{} dp{} cp{} ep{}{}{}{}{} mb{} m{} {} rc={} zero{}{}{}{}{} on {}: step {:.3g} s "
          "(compute {:.3g}, tp {:.3g}, ep {:.3g}, pp {:.3g}, fsdp {:.3g}, bubble {:.3g}, dp {:.3g}{}), MFU "
          "{:.1f}%{}{}{}",
          arch->name, s.lora_rank > 0 ? fmt::format(" LoRA r{} on {}", s.lora_rank, Join(s.lora_targets, "+")) : "",
          p.tp, p.pp, p.dp, p.cp, p.ep, p.sequence_parallel ? "+sp" : "",
          s.virtual_stages > 1 ? fmt::format(" v{}", s.virtual_stages)
          : vp && *vp > 1      ? fmt::format(" (VP {} stated, not applied: {} layers do not split into {} chunks)", *vp,
                                             arch->layers, p.pp * *vp)
                               : "",
          s.overlap_tp_comm ? " tp-overlap" : "", s.overlap_pp_comm ? " pp-overlap" : "", s.micro_batch, r.microbatches,
          fmt::format("{}{}{}{}", pf::Name(s.precision), s.fp8_params ? " fp8-params" : "",
                      s.fp8_activation_input ? " fp8-act-input" : "",
                      s.forward_only_quant.empty() ? "" : " fwd-only:" + Join(s.forward_only_quant, "+")),
          s.recompute == graph::Recompute::kSelective && s.recompute_modules != graph::RecomputeModules{}
              ? fmt::format("selective:{}", Join(s.recompute_module_names, "+"))
          : s.recompute == graph::Recompute::kFull && s.recompute_layers > 0
              ? fmt::format("full:{}-layers", s.recompute_layers)
              : std::string(graph::Name(s.recompute)),
          s.zero_stage,
          fmt::format("{}{}{}{}", s.shard_group > 0 ? fmt::format(" shard-group={}", s.shard_group) : "",
                      s.pytorch_fsdp && s.zero_stage >= 2 ? " pytorch-fsdp" : "",
                      s.grad_dtype == DType::kFp32 ? " fp32-grads" : "",
                      s.dp_bucket_params > 0 ? fmt::format(" dp-bucket={:.3g}M", s.dp_bucket_params / 1e6) : ""),
          s.autocast_fp32_params ? " autocast" : "",
          fmt::format("{}{}{}{}", s.compiled ? " compiled" : "",
                      s.logit_metrics > 0 ? fmt::format(" logit-metrics={}", s.logit_metrics) : "",
                      s.offload_layers > 0 ? fmt::format(" offload={}", s.offload_layers) : "",
                      s.expert_gemm_streams > 0 && model::IsMoe(*arch)
                          ? fmt::format(" expert-gemms-on-{}-streams{}", s.expert_gemm_streams,
                                        s.mtp_layers > 0 ? fmt::format(" mtp={}", s.mtp_layers) : "")
                          : ""),
          s.attention_kernel != ops::AttentionKernel::kBest ? fmt::format(" attn={}", ops::Name(s.attention_kernel))
                                                            : "",
          cluster_note, r.step.total.value(), r.step.compute.value(), r.step.tp_comm.value(), r.step.ep_comm.value(),
          r.step.pp_comm.value(), r.step.fsdp_comm.value(), r.step.bubble.value(), r.step.dp_comm.value(),
          s.overlap_dp_comm || s.zero_stage >= 3 ? "" : " after backward", r.mfu * 100,
          clock_ratio < 1 ? fmt::format(", power cap: clock × {:.3f}", clock_ratio) : "",
          r.fits ? "" : "; memory model says it does not fit: " + r.memory_fit.reason, ttt_note));
  out.measured = measured;
  out.predicted = predicted;
  out.unit = unit;
  out.abs_pct_error = std::fabs(predicted - measured) / measured * 100.0;
  if (!r.fits) out.does_not_fit = r.memory_fit.reason;
  return out;
}

}  // namespace pf::report
