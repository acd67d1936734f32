// Validation against published measurements: the per-kind registries, the microbenchmark
// row simulators, the GPT-layer composition and the report rendering.
#include "pathfinder/report/validation.h"

#include <fmt/core.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <sstream>

#include "pathfinder/comm/collective.h"
#include "pathfinder/comm/microbench_rows.h"
#include "pathfinder/comm/topology.h"
#include "pathfinder/core/strings.h"
#include "pathfinder/ops/clock.h"
#include "pathfinder/ops/memory_ops.h"
#include "pathfinder/power/power.h"
#include "pathfinder/report/validation_inference.h"
#include "pathfinder/spec/calibration_spec.h"
#include "pathfinder/spec/chip_energy.h"
#include "pathfinder/spec/chip_spec.h"
#include "pathfinder/spec/cluster_spec.h"
#include "pathfinder/spec/file.h"
#include "pathfinder/spec/validation_csv.h"

namespace pf::report {
namespace {


RowResult Skip(const spec::ValidationTable& t, const spec::CsvRow& row, std::string reason) {
  RowResult r;
  r.id = t.Get(row, "id");
  if (r.id.empty()) r.id = fmt::format("line{}", row.line);
  r.kind = t.Get(row, t.kind == spec::ValidationKind::kMicrobench ? "kind" : "measured_metric");
  r.group = r.id.substr(0, r.id.find('_'));
  r.reason = std::move(reason);
  return r;
}

bool ParseNumber(const std::string& s, double* out) {
  const std::string t = Trim(s);
  if (t.empty()) return false;
  char* end = nullptr;
  *out = std::strtod(t.c_str(), &end);
  return end != nullptr && *end == '\0' && std::isfinite(*out);
}

// The integer after `key=` in `text` (keys matched case-sensitively at a word start).
std::optional<int64_t> KeyValue(const std::string& text, const std::string& key) {
  size_t pos = 0;
  while ((pos = text.find(key + "=", pos)) != std::string::npos) {
    if (pos == 0 || !std::isalnum(static_cast<unsigned char>(text[pos - 1]))) {
      const char* p = text.c_str() + pos + key.size() + 1;
      char* end = nullptr;
      const long long v = std::strtoll(p, &end, 10);
      if (end != p && v > 0) return v;
      return std::nullopt;
    }
    pos += key.size();
  }
  return std::nullopt;
}

// "best MxNxK=1024x10240x5120" → (1024, 10240, 5120).
bool ParseMnk(const std::string& text, int64_t* m, int64_t* n, int64_t* k) {
  const size_t eq = text.find("MxNxK=");
  if (eq == std::string::npos) return false;
  long long a = 0, b = 0, c = 0;
  if (std::sscanf(text.c_str() + eq + 6, "%lldx%lldx%lld", &a, &b, &c) != 3 || a <= 0 || b <= 0 || c <= 0) return false;
  *m = a;
  *n = b;
  *k = c;
  return true;
}

// "best MxNxK=…", "M=… N=… K=…" or "groups=… M/group=… N=… K=…".
std::optional<ops::MatmulShape> MatmulShapeOf(const std::string& size) {
  ops::MatmulShape s;
  if (ParseMnk(size, &s.m, &s.n, &s.k)) return s;
  auto groups = KeyValue(size, "groups");
  auto m = groups ? KeyValue(size, "M/group") : KeyValue(size, "M");
  auto n = KeyValue(size, "N"), k = KeyValue(size, "K");
  if (!m || !n || !k) return std::nullopt;
  s.m = *m;
  s.n = *n;
  s.k = *k;
  s.batch = groups ? *groups : 1;
  return s;
}

// Measured value and unit, the row's chip model, or a skip reason.
struct Prepared {
  const ops::OpModel* model = nullptr;
  int count = 1;
  double measured = 0;
  std::string unit;
};
std::optional<Prepared> Prepare(const spec::ValidationTable& t, const spec::CsvRow& row, ChipCache& chips, RowResult* skip) {
  Prepared p;
  if (!ParseNumber(t.Get(row, "measured_value"), &p.measured) || p.measured <= 0) {
    *skip = Skip(t, row, "missing field: measured_value is not a positive number");
    return std::nullopt;
  }
  p.unit = t.Get(row, "unit");
  const std::string& hw = t.Get(row, "hardware");
  if (hw.empty()) {
    *skip = Skip(t, row, "missing field: hardware");
    return std::nullopt;
  }
  const ChipCache::Entry& e = chips.Get(hw);
  if (!e.model) {
    *skip = Skip(t, row, e.error);
    return std::nullopt;
  }
  p.model = &*e.model;
  p.count = e.count;
  return p;
}

RowResult Done(const spec::ValidationTable& t, const spec::CsvRow& row, const Prepared& p, double predicted,
               std::string what) {
  RowResult r = Skip(t, row, std::move(what));
  r.ok = true;
  r.measured = p.measured;
  r.predicted = predicted;
  r.unit = p.unit;
  r.abs_pct_error = std::fabs(predicted - p.measured) / p.measured * 100.0;
  return r;
}

bool StartsWith(const std::string& s, const char* prefix) { return s.rfind(prefix, 0) == 0; }

// ---- Microbenchmark row simulators ----------------------------------------------------------

RowResult MatmulRow(const spec::ValidationTable& t, const spec::CsvRow& row, ChipCache& chips, DType dtype) {
  RowResult skip;
  auto p = Prepare(t, row, chips, &skip);
  if (!p) return skip;
  if (!StartsWith(p->unit, "TFLOP/s")) return Skip(t, row, "metric not modelled: unit '" + p->unit + "' is not TFLOP/s");
  if (!p->model->Supports(dtype)) return Skip(t, row, fmt::format("the chip preset has no {} peak", Name(dtype)));
  const auto shape = MatmulShapeOf(t.Get(row, "size_params"));
  if (!shape) return Skip(t, row, "missing field: size_params has no M, N, K");
  const ops::MatmulShape& s = *shape;
  const ops::MatmulCost c = p->model->Matmul(s, dtype);
  return Done(t, row, *p, c.achieved.value() / 1e12,
              fmt::format("{} matmul {}x{}x{}{}: {} bound, tile {}x{}, split-k {}, {} waves", Name(dtype), s.m, s.n, s.k,
                          s.batch > 1 ? fmt::format(" x{} groups", s.batch) : "", Name(c.bound), c.tile_m, c.tile_n,
                          c.split_k, c.waves));
}

// ---- Power rows: the power model against measured board power -----------------------------

// The chip's activity-based power model, or null and why there is none.
const power::ChipPowerModel* ActivityPowerModel(ChipCache& chips, const hw::Chip& chip, std::string* why) {
  const power::ChipPowerModel* pm = chips.PowerModel(chip, why);
  if (pm && pm->method != power::ChipPowerModel::Method::kActivity) {
    *why = "the chip's power model is the TDP-based estimate (" + pm->basis + "), which never throttles";
    return nullptr;
  }
  return pm;
}

// A matmul run back to back for seconds: its rate at the clock the power cap leaves
// (power::EnergyOfCappedRun, the matmul re-simulated at each clock ratio).
RowResult SustainedMatmulRow(const spec::ValidationTable& t, const spec::CsvRow& row, ChipCache& chips, DType dtype) {
  RowResult skip;
  auto p = Prepare(t, row, chips, &skip);
  if (!p) return skip;
  if (!StartsWith(p->unit, "TFLOP/s"))
    return Skip(t, row, "metric not modelled: unit '" + p->unit + "' is not TFLOP/s");
  if (!p->model->Supports(dtype)) return Skip(t, row, fmt::format("the chip preset has no {} peak", Name(dtype)));
  const auto shape = MatmulShapeOf(t.Get(row, "size_params"));
  if (!shape) return Skip(t, row, "missing field: size_params has no M, N, K");
  const ops::OpModel& m = *p->model;
  std::string why;
  const power::ChipPowerModel* pm = ActivityPowerModel(chips, m.chip(), &why);
  if (!pm) return Skip(t, row, why);
  auto at = [&](double r) {
    const ops::ClockedChip clocked = ops::AtClockRatio(m.chip(), m.ceilings(), r);  // r = 1: the chip as it is
    const ops::MatmulCost c = ops::OpModel(clocked.chip, clocked.ceilings).Matmul(*shape, dtype);
    power::Activity a;
    a[dtype] = c.executed_flops;
    a.hbm = c.bytes;
    a.duration = c.time;
    return power::RunAt{a, c.time};
  };
  double ratio = 1;
  const power::RunEnergy e = power::EnergyOfCappedRun(at, *pm, m.chip().clock, 1, power::ServerPower{}, 1.0, 0, &ratio);
  const double flops = 2.0 * double(shape->m) * double(shape->n) * double(shape->k) * double(shape->batch);
  return Done(t, row, *p, flops / e.duration.value() / 1e12,
              fmt::format("{} matmul {}x{}x{} held at the {} cap: {} at clock ratio {:.3f}{}", Name(dtype), shape->m,
                          shape->n, shape->k, ToString(pm->Tdp(), 3), ToString(e.chip.average, 3), ratio,
                          ratio < 1 ? "" : " (under the cap)"));
}

// Board power of an HBM stream at the measured bandwidth ("bandwidth=<GB/s>"): static
// power plus each byte's HBM and on-chip energy, at the nominal clock.
RowResult BoardPowerStreamRow(const spec::ValidationTable& t, const spec::CsvRow& row, ChipCache& chips) {
  RowResult skip;
  auto p = Prepare(t, row, chips, &skip);
  if (!p) return skip;
  if (p->unit != "W") return Skip(t, row, "metric not modelled: unit '" + p->unit + "' is not W");
  const std::string& size = t.Get(row, "size_params");
  const size_t at = size.find("bandwidth=");
  double gbps = 0;
  if (at == std::string::npos || !ParseNumber(size.substr(at + 10, size.find(' ', at) - at - 10), &gbps) || gbps <= 0) {
    return Skip(t, row, "missing field: size_params has no bandwidth=<GB/s>");
  }
  std::string why;
  const power::ChipPowerModel* pm = ActivityPowerModel(chips, p->model->chip(), &why);
  if (!pm) return Skip(t, row, why);
  power::Activity a;
  a.hbm = Bytes(gbps * 1e9);
  a.duration = Seconds(1);
  const power::PowerResult r = power::Evaluate(a, *pm, p->model->chip().clock);
  return Done(t, row, *p, r.average.value(),
              fmt::format("{} GB/s read + written: static {} + HBM and on-chip {}", FormatNumber(gbps, 4),
                          ToString(pm->StaticPower(), 3), ToString(r.energy.hbm / Seconds(1), 3)));
}

RowResult HbmStreamRow(const spec::ValidationTable& t, const spec::CsvRow& row, ChipCache& chips) {
  RowResult skip;
  auto p = Prepare(t, row, chips, &skip);
  if (!p) return skip;
  if (p->unit != "GB/s") return Skip(t, row, "metric not modelled: unit '" + p->unit + "' is not GB/s");
  // A large streaming buffer: the kernel overhead is negligible; the prediction is the
  // achievable bandwidth the memory-bound ops use, whatever the read/write mix.
  const double bw = p->model->ceilings().hbm.value() / 1e9;
  return Done(t, row, *p, bw, fmt::format("achievable HBM bandwidth ({})", p->model->ceilings().hbm_origin));
}

RowResult LayerRow(const spec::ValidationTable& t, const spec::CsvRow& row, ChipCache& chips) {
  RowResult skip;
  auto p = Prepare(t, row, chips, &skip);
  if (!p) return skip;
  if (!StartsWith(p->unit, "ms")) return Skip(t, row, "metric not modelled: unit '" + p->unit + "' is not ms");
  const std::string& size = t.Get(row, "size_params");
  LayerConfig c;
  auto h = KeyValue(size, "h"), a = KeyValue(size, "a"), s = KeyValue(size, "s"), b = KeyValue(size, "b");
  auto tp = KeyValue(size, "TP");
  if (!h || !a || !s || !b) return Skip(t, row, "missing field: size_params needs h, a, s, b");
  c.hidden = *h;
  c.heads = *a;
  c.seq = *s;
  c.micro_batch = *b;
  c.tp = int(tp ? *tp : p->count);
  // The variant (Korthikanti et al. 2022 Table 4) is named in the row id.
  const std::string& id = t.Get(row, "id");
  c.sequence_parallel = id.find("sequence") != std::string::npos;
  c.selective_recompute = id.find("selective") != std::string::npos;
  c.flash_attention = KeyValue(size, "flash").value_or(0) == 1;  // fused attention (size_params "flash=1")
  if (!p->model->Supports(c.dtype)) return Skip(t, row, "the chip preset has no bf16 peak");
  // The tensor-parallel all-reduces run on the row's server, costed by comm/.
  std::optional<hw::Cluster> cluster;
  if (c.tp > 1) {
    const ChipCache::Entry& e = chips.Get(t.Get(row, "hardware"));
    const std::string name = comm::ClusterPresetForRow({"allreduce_busbw", t.Get(row, "hardware"), e.preset, c.tp, "", ""});
    if (name.empty()) return Skip(t, row, "unknown hardware: no cluster preset for the tensor-parallel collectives");
    Diagnostics diag;
    cluster = spec::LoadClusterPreset(name, diag);
    if (!cluster) return Skip(t, row, "cluster preset " + name + " does not load: " + diag.Render());
    cluster->chips = c.tp;
    const comm::Network net(*cluster);
    auto group = comm::MakeGroup(net, 1, c.tp);
    if (!group.ok()) return Skip(t, row, "tensor-parallel group: " + group.error());
    c.tp_allreduce = [net, g = group.value()](Bytes payload) {
      return comm::EstimateCollective(net, g, comm::Collective::kAllReduce, payload).time;
    };
  }
  const LayerTime lt = SimulateGptLayer(*p->model, c);
  return Done(t, row, *p, (lt.forward + lt.backward).value() * 1e3,
              fmt::format("GPT layer TP={}{}{}: fwd {:.2f} ms, bwd {:.2f} ms, of which TP comm {:.2f} ms", c.tp,
                          c.sequence_parallel ? " +SP" : "", c.selective_recompute ? " +selective recompute" : "",
                          lt.forward.value() * 1e3, lt.backward.value() * 1e3, lt.comm.value() * 1e3));
}

// Fused attention rows (attention_fwd / attention_bwd in TFLOP/s, attention_decode_time in
// µs): size_params "b=… h=… kvh=… s=… d=… causal=0|1 kernel=<name>" (prefill) or
// "b=… h=… kvh=… q=… context=… d=…" (decode). TFLOP/s use the FlashAttention papers'
// convention: forward 4·b·h·s²·d (half with a causal mask), backward 2.5× that, timed as
// (forward + backward) − forward. "dv=…" gives a value head dim other than d (MLA-style
// 192/128); the forward's FLOPs are then 2·b·h·s²·(d + dv).
RowResult AttentionRow(const spec::ValidationTable& t, const spec::CsvRow& row, ChipCache& chips) {
  RowResult skip;
  auto p = Prepare(t, row, chips, &skip);
  if (!p) return skip;
  const std::string& kind = t.Get(row, "kind");
  const bool decode = kind == "attention_decode_time";
  if (decode ? p->unit != "us" : !StartsWith(p->unit, "TFLOP/s"))
    return Skip(t, row, "metric not modelled: unit '" + p->unit + "' for " + kind);
  const std::string& size = t.Get(row, "size_params");
  auto b = KeyValue(size, "b"), h = KeyValue(size, "h"), kvh = KeyValue(size, "kvh"), d = KeyValue(size, "d");
  auto dv = KeyValue(size, "dv");
  auto s = decode ? KeyValue(size, "q") : KeyValue(size, "s");
  auto context = KeyValue(size, "context");
  if (!b || !h || !d || !s || (decode && !context))
    return Skip(t, row,
                decode ? "missing field: size_params needs b, h, q, context, d"
                       : "missing field: size_params needs b, h, s, d");
  ops::AttentionShape a;
  a.batch = *b;
  a.heads = *h;
  a.kv_heads = kvh ? *kvh : *h;
  a.head_dim = *d;
  a.v_head_dim = dv ? *dv : 0;
  a.q_len = *s;
  a.kv_len = decode ? *context + *s : *s;
  a.causal = decode || size.find("causal=1") != std::string::npos;
  const size_t kpos = size.find("kernel=");
  if (kpos != std::string::npos) {
    const std::string name = size.substr(kpos + 7, size.find(' ', kpos) - kpos - 7);
    const auto k = ops::ParseAttentionKernel(name);
    if (!k) return Skip(t, row, "unknown attention kernel '" + name + "' in size_params");
    if (!p->model->SupportsAttention(*k))
      return Skip(t, row, "attention kernel " + name + " is not calibrated for the chip");
    a.kernel = *k;
  }
  if (!p->model->Supports(a.dtype)) return Skip(t, row, "the chip preset has no bf16 peak");
  const ops::AttentionCost fwd = p->model->Attention(a);
  if (decode)
    return Done(
        t, row, *p, fwd.time.value() * 1e6,
        fmt::format("decode attention {} sequences × {} cached tokens: {} bound", a.batch, *context, Name(fwd.bound)));
  const double flops = 2.0 * double(a.batch * a.heads) * double(a.q_len) * double(a.q_len) *
                       double(a.head_dim + (dv ? *dv : a.head_dim)) * (a.causal ? 0.5 : 1.0);
  if (kind == "attention_fwd")
    return Done(t, row, *p, flops / fwd.time.value() / 1e12,
                fmt::format("attention forward, kernel {}: {:.3f} ms", ops::Name(a.kernel), fwd.time.value() * 1e3));
  a.backward = true;
  const Seconds bwd = p->model->Attention(a).time - fwd.time;
  return Done(t, row, *p, 2.5 * flops / bwd.value() / 1e12,
              fmt::format("attention backward, kernel {}: {:.3f} ms", ops::Name(a.kernel), bwd.value() * 1e3));
}

// What a microbenchmark row's run used and its size_params leaves out
// (data/validation/microbench-settings.csv: id,size_params,source), appended to the row's
// size_params by id. A malformed file fails every collective row with its reason.
struct MicrobenchSettings {
  std::map<std::string, std::string> size_params;
  std::string error;
};
const MicrobenchSettings& MicrobenchRowSettings() {
  static const MicrobenchSettings file = [] {
    MicrobenchSettings f;
    const SettingsCsv csv = ReadSettingsCsv("microbench-settings.csv", {"id", "size_params", "source"});
    f.error = csv.error;
    for (size_t i = 0; i < csv.records.size() && f.error.empty(); ++i) {
      const auto& r = csv.records[i];
      if (r.size() != 3 || Trim(r[0]).empty() || Trim(r[1]).empty() || Trim(r[2]).empty()) {
        f.error = fmt::format("{}:{}: every row needs a non-empty id, size_params and source", csv.path, csv.lines[i]);
      } else if (!f.size_params.emplace(Trim(r[0]), Trim(r[1])).second) {
        f.error = fmt::format("{}:{}: id '{}' is listed twice", csv.path, csv.lines[i], Trim(r[0]));
      }
    }
    return f;
  }();
  return file;
}

// A collective row as comm/ reads it: its text, the chips its hardware cell names, and what
// data/validation/microbench-settings.csv adds to its size_params.
comm::MicrobenchRow CollectiveRowText(const spec::ValidationTable& t, const spec::CsvRow& row, ChipCache& chips,
                                      const std::string& unit) {
  const ChipCache::Entry& e = chips.Get(t.Get(row, "hardware"));
  comm::MicrobenchRow r{t.Get(row, "kind"),
                        t.Get(row, "hardware"),
                        e.preset,
                        e.count > 1 ? long(e.count) : 0,
                        t.Get(row, "size_params"),
                        unit,
                        t.Get(row, "source"),
                        t.Get(row, "notes")};
  const MicrobenchSettings& extra = MicrobenchRowSettings();
  if (auto it = extra.size_params.find(t.Get(row, "id")); it != extra.size_params.end()) {
    r.size_params += (r.size_params.empty() ? "" : ", ") + it->second;
  }
  return r;
}

// Collective rows (all-reduce bus bandwidth, MoE all-to-all, copies, bisection): the
// row's hardware names a chip and a cluster preset; comm/ predicts in the row's unit.
RowResult CollectiveRow(const spec::ValidationTable& t, const spec::CsvRow& row, ChipCache& chips) {
  RowResult skip;
  auto p = Prepare(t, row, chips, &skip);
  if (!p) return skip;
  const MicrobenchSettings& extra = MicrobenchRowSettings();
  if (!extra.error.empty()) return Skip(t, row, extra.error);
  const comm::MicrobenchRow r = CollectiveRowText(t, row, chips, p->unit);
  const std::string cluster_name = comm::ClusterPresetForRow(r);
  if (cluster_name.empty()) return Skip(t, row, "unknown hardware: no cluster preset matches '" + r.hardware + "'");
  Diagnostics diag;
  const auto cluster = spec::LoadClusterPreset(cluster_name, diag);
  if (!cluster) return Skip(t, row, "cluster preset " + cluster_name + " does not load: " + diag.Render());
  const comm::MicrobenchPrediction pred = comm::PredictMicrobenchRow(r, *cluster);
  if (!pred.ok) return Skip(t, row, pred.skip);
  return Done(t, row, *p, pred.value, fmt::format("{} on {}", pred.detail, cluster_name));
}

RowResult MicrobenchRow(const spec::ValidationTable& t, const spec::CsvRow& row, ChipCache& chips) {
  static const std::vector<MicrobenchKind> kinds = RegisterBuiltinMicrobenchKinds();
  const std::string& kind = t.Get(row, "kind");
  if (kind.empty()) return Skip(t, row, "missing field: kind");
  for (const auto& k : kinds)
    if (k.kind == kind) return k.simulate(t, row, chips);
  if (comm::IsCollectiveKind(kind)) return CollectiveRow(t, row, chips);
  return Skip(t, row, "metric not modelled: kind '" + kind + "'");
}

// ---- Rendering helpers -----------------------------------------------------------------

std::string CsvQuote(const std::string& s) {
  if (s.find_first_of(",\"\n") == std::string::npos) return s;
  std::string q = "\"";
  for (char c : s) q += c == '"' ? std::string("\"\"") : std::string(1, c);
  return q + "\"";
}

}  // namespace

SettingsCsv ReadSettingsCsv(const std::string& name, const std::vector<std::string>& header) {
  SettingsCsv f;
  f.path = spec::DataDir() + "/validation/" + name;
  if (!std::filesystem::exists(f.path)) return f;  // a data folder without it: no supplements
  Diagnostics diag;
  auto text = spec::ReadTextFile(f.path, diag);
  if (!text) {
    f.error = diag.Render();
    return f;
  }
  std::string err;
  if (!spec::SplitCsv(*text, &f.records, &f.lines, &err)) {
    f.error = f.path + ": " + err;
    f.records.clear(), f.lines.clear();
    return f;
  }
  if (f.records.empty() || f.records[0] != header) {
    f.error = f.path + ":1: header must be " + Join(header, ",");
    f.records.clear(), f.lines.clear();
    return f;
  }
  f.records.erase(f.records.begin());
  f.lines.erase(f.lines.begin());
  return f;
}

// ---- Registries ---------------------------------------------------------------------------

std::vector<MicrobenchKind> RegisterBuiltinMicrobenchKinds() {
  // The matmul kinds differ only in the dtype they time.
  auto matmul = [](DType d) -> RowSimulator {
    return [d](const spec::ValidationTable& t, const spec::CsvRow& r, ChipCache& c) { return MatmulRow(t, r, c, d); };
  };
  auto sustained = [](DType d) -> RowSimulator {
    return [d](const spec::ValidationTable& t, const spec::CsvRow& r, ChipCache& c) {
      return SustainedMatmulRow(t, r, c, d);
    };
  };
  const RowSimulator bf16 = matmul(DType::kBf16), fp8 = matmul(DType::kFp8), fp16 = matmul(DType::kFp16),
                     tf32 = matmul(DType::kTf32);
  return {
      {"gemm_bf16_max_achievable", bf16},  // sanity check of the calibration
      {"gemm_fp8_e4m3_max_achievable", fp8},
      {"gemm_fp8_e4m3_blockscaled", fp8},  // per-shape rows: test the mapping
      {"gemm_bf16", bf16},
      {"gemm_fp16", fp16},
      {"gemm_fp8_e4m3", fp8},
      {"gemm_tf32", tf32},
      {"grouped_gemm_bf16", bf16},
      {"grouped_gemm_fp8_moe_contiguous", fp8},
      {"grouped_gemm_fp8_moe_masked", fp8},
      {"sustained_gemm_bf16", sustained(DType::kBf16)},
      {"sustained_gemm_fp16", sustained(DType::kFp16)},
      {"sustained_gemm_fp8_e4m3", sustained(DType::kFp8)},
      {"sustained_gemm_tf32", sustained(DType::kTf32)},
      {"board_power_hbm_stream", BoardPowerStreamRow},
      {"hbm_stream_init", HbmStreamRow},
      {"hbm_stream_read", HbmStreamRow},
      {"hbm_stream_triad", HbmStreamRow},
      {"hbm_copy", HbmStreamRow},
      {"attention_fwd", AttentionRow},
      {"attention_bwd", AttentionRow},
      {"attention_decode_time", AttentionRow},
      {"transformer_layer_fwd_bwd_time", LayerRow},
  };
}

RowResult SimulateTrainingRow(const spec::ValidationTable& t, const spec::CsvRow& row, ChipCache& chips);  // validation_training.cc

std::vector<FileValidator> RegisterBuiltinFileValidators() {
  return {
      {spec::ValidationKind::kMicrobench, MicrobenchRow},
      {spec::ValidationKind::kTraining, SimulateTrainingRow},
      {spec::ValidationKind::kInference, InferenceRow},
  };
}

const ChipCache::Entry& ChipCache::Get(const std::string& hardware_text) {
  auto it = by_text_.find(hardware_text);
  if (it != by_text_.end()) return it->second;
  Entry e;
  auto resolved = spec::ResolveChipName(hardware_text);
  if (!resolved) {
    const std::string name = hardware_text.substr(0, hardware_text.find(" ("));
    e.error = "unknown hardware: no chip preset is named '" + name + "'";
    return by_text_.emplace(hardware_text, std::move(e)).first->second;
  }
  e.preset = resolved->preset;
  e.count = resolved->count;
  auto pit = by_preset_.find(e.preset);
  if (pit == by_preset_.end()) {
    Diagnostics diag;
    std::shared_ptr<ops::OpModel> model;
    auto chip = spec::LoadChipPreset(e.preset, diag);
    if (chip) {
      auto cal = spec::ResolveCalibration(*chip, diag);
      if (cal) model = std::make_shared<ops::OpModel>(*chip, cal->ceilings);
    }
    if (!model) e.error = "chip preset '" + e.preset + "' could not be loaded: " + Trim(diag.Render());
    pit = by_preset_.emplace(e.preset, model).first;
  }
  if (pit->second) e.model = *pit->second;
  else if (e.error.empty()) e.error = "chip preset '" + e.preset + "' could not be loaded";
  return by_text_.emplace(hardware_text, std::move(e)).first->second;
}

const power::ChipPowerModel* ChipCache::PowerModel(const hw::Chip& chip, std::string* why) {
  auto it = power_by_chip_.find(chip.name);
  if (it == power_by_chip_.end()) {
    Diagnostics diag;
    auto pm = spec::ChipPowerModelFor(chip, diag);
    std::string reason = pm ? "" : "no power model: " + diag.Render();
    it = power_by_chip_.emplace(chip.name, std::pair{std::move(pm), std::move(reason)}).first;
  }
  if (!it->second.first) *why = it->second.second;
  return it->second.first ? &*it->second.first : nullptr;
}

// ---- GPT layer ---------------------------------------------------------------------------

LayerTime SimulateGptLayer(const ops::OpModel& m, const LayerConfig& c) {
  using ops::MatmulShape;
  const DType d = c.dtype;
  const int64_t h = c.hidden, t = c.tp, tokens = c.micro_batch * c.seq;
  const int64_t ffn = c.ffn > 0 ? c.ffn : 4 * c.hidden;
  const int64_t heads = c.heads / t, head_dim = c.hidden / c.heads;
  const int64_t sp_tokens = c.sequence_parallel ? (tokens + t - 1) / t : tokens;  // norms/dropout on a shard

  Seconds fwd, bwd, comm;
  // A linear layer y[T×n] = x[T×k]·W[k×n]: forward one GEMM; backward dgrad and wgrad.
  auto linear = [&](int64_t k, int64_t n) {
    fwd += m.Matmul(MatmulShape{tokens, n, k, 1}, d).time;
    bwd += m.Matmul(MatmulShape{tokens, k, n, 1}, d).time;   // dX = dY·Wᵀ
    bwd += m.Matmul(MatmulShape{k, n, tokens, 1}, d).time;   // dW = Xᵀ·dY
  };
  auto mem = [&](const ops::MemoryTraffic& tr) { return m.Memory(tr).time; };

  // Attention core, one pass (forward); returns its time so recompute can add it again.
  Seconds core_fwd, core_bwd;
  if (c.flash_attention) {
    ops::AttentionShape a;
    a.batch = c.micro_batch;
    a.heads = heads;
    a.kv_heads = heads;
    a.head_dim = head_dim;
    a.q_len = a.kv_len = c.seq;
    a.causal = true;
    a.dtype = d;
    core_fwd = m.Attention(a).time;
    a.backward = true;
    core_bwd = m.Attention(a).time - core_fwd;
  } else {
    // Megatron 2022: QKᵀ and PV batched GEMMs over b·heads, scale+mask+softmax fused, then
    // dropout on the b·heads·s² probabilities (Korthikanti et al. 2022 §4.2, Fig. 4).
    const int64_t bh = c.micro_batch * heads, s = c.seq, scores = bh * s * s;
    core_fwd = m.Matmul(MatmulShape{s, s, head_dim, bh}, d).time + mem(ops::Softmax(bh * s, s, d)) +
               mem(ops::Dropout(scores, d)) + m.Matmul(MatmulShape{s, head_dim, s, bh}, d).time;
    core_bwd = 2 * m.Matmul(MatmulShape{s, head_dim, s, bh}, d).time +   // dP = dO·Vᵀ, dV = Pᵀ·dO
               mem(ops::Fuse(ops::BiasAdd(scores, d), ops::BiasAdd(scores, d), Bytes(0))) +  // dropout bwd: read dP+mask, write
               mem(ops::Softmax(bh * s, s, d, true)) +
               2 * m.Matmul(MatmulShape{s, head_dim, s, bh}, d).time;  // dQ = dS·K, dK = dSᵀ·Q
  }

  // Collectives of the tensor-parallel region: all-reduce, or reduce-scatter + all-gather
  // with sequence parallelism (the same bytes, Korthikanti et al. 2022 §4.2.2).
  Seconds allreduce;
  if (t > 1) {
    const Bytes payload(double(tokens) * double(h) * BytesPerElement(d));
    PF_CHECK(bool(c.tp_allreduce), "SimulateGptLayer: tp = {} needs tp_allreduce", t);
    allreduce = c.tp_allreduce(payload);
  }

  // Forward: LN → QKV → core → proj → (AR) → bias-dropout-add → LN → FC1 → GeLU → FC2 → (AR) → bias-dropout-add.
  const auto ln = ops::LayerNorm(sp_tokens, h, d);
  const auto bda = ops::Fuse(ops::Dropout(sp_tokens * h, d), ops::Add(sp_tokens * h, d), Bytes(double(sp_tokens * h) * BytesPerElement(d)));
  fwd += 2 * mem(ln) + 2 * mem(bda);
  linear(h, 3 * h / t);
  fwd += core_fwd;
  linear(h / t, h);
  linear(h, ffn / t);
  fwd += mem(ops::Activation(ops::ActivationKind::kGelu, tokens, ffn / t, d));
  linear(ffn / t, h);
  fwd += 2 * allreduce;

  // Backward: the same kernels' gradients.
  bwd += 2 * mem(ops::LayerNorm(sp_tokens, h, d, true)) + 2 * mem(ops::Fuse(ops::BiasAdd(sp_tokens * h, d), ops::Add(sp_tokens * h, d), Bytes(0)));
  bwd += mem(ops::Activation(ops::ActivationKind::kGelu, tokens, ffn / t, d, true));
  bwd += core_bwd;
  if (c.selective_recompute) bwd += core_fwd;  // the attention core is recomputed
  bwd += 2 * allreduce;
  comm = 4 * allreduce;
  return {fwd, bwd, comm};
}

// ---- Validate and render ---------------------------------------------------------------

int MetricDirection(const std::string& unit) {
  const std::string u = ToLower(Trim(unit));
  auto word = [&](const char* w) {
    const size_t n = std::string_view(w).size();
    return u.rfind(w, 0) == 0 && (u.size() == n || !std::isalpha(static_cast<unsigned char>(u[n])));
  };
  if (word("w") || word("watts")) return 0;
  if (word("s") || word("ms") || word("us") || word("µs") || word("ns") || word("seconds") || word("minutes") ||
      word("hours"))
    return -1;
  return 1;
}

Summary Summarize(const std::vector<RowResult>& rows) {
  Summary s;
  s.total = int(rows.size());
  std::vector<double> e;
  for (const auto& r : rows) {
    if (r.ok && r.left_out.empty()) {
      e.push_back(r.abs_pct_error);
      if (const int dir = MetricDirection(r.unit); dir != 0) {
        ++s.directed;
        s.optimistic += dir * (r.predicted - r.measured) > 0;
        s.mean_signed += dir * (r.predicted - r.measured) / r.measured * 100.0;
      }
    }
    s.left_out += r.ok && !r.left_out.empty();
  }
  s.validated = int(e.size());
  if (s.directed > 0) s.mean_signed /= s.directed;
  if (e.empty()) return s;
  std::sort(e.begin(), e.end());
  double sum = 0;
  for (double x : e) sum += x;
  s.mape = sum / double(e.size());
  s.median = e.size() % 2 == 1 ? e[e.size() / 2] : (e[e.size() / 2 - 1] + e[e.size() / 2]) / 2;
  s.max = e.back();
  return s;
}

ValidationReport Validate(const spec::ValidationTable& table) {
  ValidationReport rep;
  rep.file = table.file;
  rep.kind = table.kind;
  ChipCache chips;
  RowSimulator sim;
  for (const auto& v : RegisterBuiltinFileValidators())
    if (v.kind == table.kind) sim = v.simulate;
  for (const auto& row : table.rows) {
    if (!row.problem.empty()) rep.rows.push_back(Skip(table, row, fmt::format("line {}: {}", row.line, row.problem)));
    else if (!sim) rep.rows.push_back(Skip(table, row, "no validator for this kind of file"));
    else rep.rows.push_back(sim(table, row, chips));
    if (const std::string& hw = table.Get(row, "hardware"); !hw.empty()) rep.rows.back().chip = chips.Get(hw).preset;
  }
  if (table.kind == spec::ValidationKind::kMicrobench) {
    // Collective rows that their own sweep contradicts are shown but left out.
    std::vector<comm::MicrobenchRow> text;
    std::vector<double> measured;
    std::vector<std::string> ids;
    std::vector<size_t> at;
    for (size_t i = 0; i < table.rows.size(); ++i) {
      if (!rep.rows[i].ok || !comm::IsCollectiveKind(rep.rows[i].kind)) continue;
      text.push_back(CollectiveRowText(table, table.rows[i], chips, rep.rows[i].unit));
      measured.push_back(rep.rows[i].measured);
      ids.push_back(rep.rows[i].id);
      at.push_back(i);
    }
    for (const auto& [j, why] : comm::SweepOutliers(text, measured, ids)) rep.rows[at[j]].left_out = why;
  }
  rep.all = Summarize(rep.rows);
  return rep;
}

std::string SummaryLine(const Summary& s) {
  std::string line = fmt::format("validated {} of {} rows: MAPE {:.1f}%, median {:.1f}%, max {:.1f}%", s.validated,
                                 s.total, s.mape, s.median, s.max);
  if (s.left_out > 0)
    line += fmt::format(" ({} more simulated and left out: measured slower than a larger payload of the same sweep)",
                        s.left_out);
  return line;
}

std::string SpreadLine(const std::vector<RowResult>& rows) {
  std::vector<double> e;
  for (const auto& x : rows)
    if (x.ok && x.left_out.empty()) e.push_back(x.abs_pct_error);
  if (e.empty()) return "";
  std::sort(e.begin(), e.end());
  const auto within = std::count_if(e.begin(), e.end(), [](double v) { return v <= 10.0; });
  const size_t best = size_t(std::ceil(0.85 * double(e.size())));
  double sum = 0;
  for (size_t i = 0; i < best; ++i) sum += e[i];
  return fmt::format(
      "within 10 %: {} of {} validated rows ({:.1f} %); the best 85 % ({} rows): MAPE {:.1f}%, max {:.1f}%", within,
      e.size(), 100.0 * double(within) / double(e.size()), best, sum / double(best), e[best - 1]);
}

std::string FitLine(const std::vector<RowResult>& rows) {
  std::vector<std::string> wrong;
  size_t simulated = 0;
  for (const auto& x : rows) {
    if (!x.ok || !x.left_out.empty()) continue;
    ++simulated;
    if (!x.does_not_fit.empty()) wrong.push_back(x.id);
  }
  if (simulated == 0) return "";
  return fmt::format("memory fit: the model says {} of {} simulated runs (each of which ran) do not fit{}{}",
                     wrong.size(), simulated, wrong.empty() ? "" : ": ", Join(wrong, ", "));
}

std::string Render(const ValidationReport& r) {
  std::ostringstream out;
  out << fmt::format("{} ({} rows, {} file)\n", r.file, r.rows.size(), spec::Name(r.kind));
  size_t wid = 2;
  for (const auto& x : r.rows) wid = std::max(wid, x.id.size());
  wid = std::min<size_t>(wid, 48);
  out << fmt::format("{:<{}}  {:>10}  {:>10}  {:>7}  {}\n", "id", wid, "measured", "predicted", "error", "notes");
  for (const auto& x : r.rows) {
    if (x.ok && !x.left_out.empty()) {
      out << fmt::format("{:<{}}  {:>10.4g}  {:>10.4g}  {:>6.1f}%  left out: {}; {} [{}]\n", x.id, wid, x.measured,
                         x.predicted, x.abs_pct_error, x.left_out, x.reason, x.unit);
    } else if (x.ok) {
      out << fmt::format("{:<{}}  {:>10.4g}  {:>10.4g}  {:>6.1f}%  {} [{}]\n", x.id, wid, x.measured, x.predicted,
                         x.abs_pct_error, x.reason, x.unit);
    } else {
      out << fmt::format("{:<{}}  {:>10}  {:>10}  {:>7}  skipped: {}\n", x.id, wid, "-", "-", "-", x.reason);
    }
  }
  auto section = [&](const char* title, auto key) {
    std::map<std::string, std::vector<RowResult>> groups;
    for (const auto& x : r.rows) groups[key(x)].push_back(x);
    out << title << "\n";
    for (const auto& [g, rows] : groups) {
      const Summary s = Summarize(rows);
      if (s.validated == 0) {
        out << fmt::format("  {:<34} 0 of {} validated ({})\n", g, s.total,
                           rows.front().left_out.empty() ? rows.front().reason : "left out: " + rows.front().left_out);
      } else {
        out << fmt::format(
            "  {:<34} {} of {}: MAPE {:.1f}%, median {:.1f}%, max {:.1f}%{}{}\n", g, s.validated, s.total, s.mape,
            s.median, s.max, s.left_out > 0 ? fmt::format(" ({} left out)", s.left_out) : "",
            s.directed > 0
                ? fmt::format("; optimistic in {} of {} (mean {:+.1f}%)", s.optimistic, s.directed, s.mean_signed)
                : "");
      }
    }
  };
  section("per source:", [](const RowResult& x) { return x.group; });
  section("per kind:", [](const RowResult& x) { return x.kind; });
  section("per chip:", [](const RowResult& x) { return x.chip.empty() ? std::string("(no chip preset)") : x.chip; });
  if (const std::string spread = SpreadLine(r.rows); !spread.empty()) out << spread << "\n";
  if (r.kind == spec::ValidationKind::kTraining) {
    if (const std::string fit = FitLine(r.rows); !fit.empty()) out << fit << "\n";
  }
  out << SummaryLine(r.all) << "\n";
  return out.str();
}

std::string RowsCsv(const ValidationReport& r) {
  std::ostringstream out;
  out << "id,status,measured,predicted,abs_pct_error,reason\n";
  for (const auto& x : r.rows) {
    if (x.ok) {
      out << fmt::format("{},{},{},{},{:.2f},{}\n", CsvQuote(x.id), x.left_out.empty() ? "ok" : "left_out", x.measured,
                         FormatNumber(x.predicted, 6), x.abs_pct_error,
                         CsvQuote(x.left_out.empty() ? x.reason : x.left_out + "; " + x.reason));
    } else {
      out << fmt::format("{},skipped,,,,{}\n", CsvQuote(x.id), CsvQuote(x.reason));
    }
  }
  return out.str();
}

}  // namespace pf::report
