// `pathfinder op matmul|attention`: the time of one operator on one chip, with the
// mapping behind it (tiles, waves, bound) — text or --json.
#include <fmt/core.h>

#include <nlohmann/json.hpp>
#include <ostream>

#include "pathfinder/cli/commands.h"
#include "pathfinder/cli/table.h"
#include "pathfinder/ops/op_model.h"
#include "pathfinder/spec/calibration_spec.h"
#include "pathfinder/spec/chip_spec.h"

namespace pf::cli {
namespace {

struct OpOpts {
  std::string chip = "h100-sxm";
  std::string dtype = "bf16";
  std::string fidelity = "mapped";
  bool json = false;
  long m = 0, n = 0, k = 0, batch = 1;
  long heads = 0, kv_heads = 0, head_dim = 128, seq = 0, context = 0, window = 0, tp = 1, cp = 1;
  bool causal = false, decode = false, backward = false;
  std::string kernel = "best";
};

// Loads the chip and its calibration; nullopt after printing diagnostics (exit code 2).
std::optional<ops::OpModel> LoadModel(const OpOpts& o, DType* dtype, ops::Fidelity* fid, std::string* cal_note,
                                      CommandContext& ctx) {
  Diagnostics diag;
  auto dt = ParseDType(o.dtype);
  if (!dt) diag.Error({}, "--dtype", fmt::format("unknown dtype '{}'; expected one of fp64, fp32, tf32, bf16, fp16, fp8, int8, fp4", o.dtype));
  if (o.fidelity != "mapped" && o.fidelity != "roofline") {
    diag.Error({}, "--fidelity", fmt::format("unknown fidelity '{}'; expected roofline or mapped", o.fidelity));
  }
  auto chip = spec::LoadChipPreset(o.chip, diag);
  std::optional<spec::ResolvedCalibration> cal;
  if (chip) cal = spec::ResolveCalibration(*chip, diag);
  if (chip && dt && chip->peak[*dt].value() <= 0) {
    diag.Error({}, "--dtype", fmt::format("chip {} has no {} matrix peak", chip->name, Name(*dt)));
  }
  if (diag.has_errors() || !chip || !cal) {
    *ctx.err << diag.Render();
    ctx.exit_code = 2;
    return std::nullopt;
  }
  *dtype = *dt;
  *fid = o.fidelity == "roofline" ? ops::Fidelity::kRoofline : ops::Fidelity::kMapped;
  *cal_note = fmt::format("calibration: {} ceiling {} ({}), HBM {} ({}){}{}", Name(*dt), ToString(cal->ceilings.matmul[*dt]),
                          cal->ceilings.matmul_origin[*dt], ToString(cal->ceilings.hbm), cal->ceilings.hbm_origin,
                          cal->chip_file.empty() ? "" : ", file " + cal->chip_file + ".yaml",
                          cal->family_file.empty() ? "" : ", family " + cal->family_file + ".yaml");
  return ops::OpModel(*chip, cal->ceilings);
}

void AddCommonOptions(CLI::App* cmd, OpOpts* o) {
  cmd->add_option("--chip", o->chip, "chip preset (see `pathfinder presets chips`)");
  cmd->add_option("--dtype", o->dtype, "bf16, fp16, fp8, int8, fp4, tf32, fp32");
  cmd->add_option("--fidelity", o->fidelity, "roofline or mapped (default)");
  cmd->add_flag("--json", o->json, "print JSON");
}

}  // namespace

// The largest product of an operator's dimensions the operator model takes: its FLOPs (a
// few times this) are counted in 64-bit integers, which hold 9.2·10^18.
constexpr double kMaxOpProduct = 1e17;

void AddOpCommand(CLI::App& app, CommandContext& ctx) {
  auto* op = app.add_subcommand("op", "Time of one operator on one chip (matmul, attention)");
  op->require_subcommand(1);
  auto o = std::make_shared<OpOpts>();

  auto* mm = op->add_subcommand("matmul", "C[m×n] = A[m×k]·B[k×n] (batched with --batch)");
  AddCommonOptions(mm, o.get());
  mm->add_option("--m", o->m, "rows of A and C")->required()->check(CLI::Range(1L, 1L << 40));
  mm->add_option("--n", o->n, "columns of B and C")->required()->check(CLI::Range(1L, 1L << 40));
  mm->add_option("--k", o->k, "the reduction dimension")->required()->check(CLI::Range(1L, 1L << 40));
  mm->add_option("--batch", o->batch, "independent problems (batched or grouped GEMM)")->check(CLI::Range(1L, 1L << 30));
  mm->callback([&ctx, o] {
    DType dt;
    ops::Fidelity fid;
    std::string note;
    // The operator model counts FLOPs, bytes and tiles in 64-bit integers.
    const double product = double(o->batch) * double(o->m) * double(o->n) * double(o->k);
    if (product > kMaxOpProduct) {
      Diagnostics d;
      d.Error({}, "--m/--n/--k/--batch",
              fmt::format("batch·m·n·k = {:.3g} is beyond the {:.3g} the operator model counts; no chip runs one "
                          "matmul that large",
                          product, kMaxOpProduct));
      *ctx.err << d.Render();
      ctx.exit_code = 2;
      return;
    }
    auto model = LoadModel(*o, &dt, &fid, &note, ctx);
    if (!model) return;
    const auto c = model->Matmul({o->m, o->n, o->k, o->batch}, dt, fid);
    if (o->json) {
      nlohmann::json j = {{"chip", model->chip().name},  {"dtype", std::string(Name(dt))}, {"fidelity", ops::Name(fid)},
                          {"m", o->m}, {"n", o->n}, {"k", o->k}, {"batch", o->batch},
                          {"time_s", c.time.value()}, {"compute_time_s", c.compute_time.value()},
                          {"memory_time_s", c.memory_time.value()}, {"overhead_s", c.overhead.value()},
                          {"pipeline_stall_s", c.pipeline_stall.value()},
                          {"flops", c.flops.value()}, {"executed_flops", c.executed_flops.value()},
                          {"bytes", c.bytes.value()}, {"achieved_flops_per_s", c.achieved.value()},
                          {"achieved_bytes_per_s", c.achieved_bandwidth.value()}, {"bound", ops::Name(c.bound)},
                          {"tile_m", c.tile_m}, {"tile_n", c.tile_n}, {"split_k", c.split_k}, {"tiles", c.tiles},
                          {"waves", c.waves}, {"wave_efficiency", c.wave_efficiency}, {"reread_factor", c.reread_factor}};
      *ctx.out << j.dump(2) << "\n";
      return;
    }
    TextTable t({"quantity", "value"});
    t.AlignRight({1});
    t.Row({"time", ToString(c.time)});
    t.Row({"  compute", ToString(c.compute_time)});
    t.Row({"  memory", ToString(c.memory_time)});
    t.Row({"  kernel overhead", ToString(c.overhead)});
    if (fid == ops::Fidelity::kMapped) t.Row({"  load/MMA pipeline stall", ToString(c.pipeline_stall)});
    t.Row({"bound", ops::Name(c.bound)});
    t.Row({"achieved", ToString(c.achieved)});
    t.Row({"achieved bandwidth", ToString(c.achieved_bandwidth)});
    t.Row({"FLOPs (useful / executed)", ToString(c.flops) + " / " + ToString(c.executed_flops)});
    t.Row({"HBM traffic", ToString(c.bytes)});
    if (fid == ops::Fidelity::kMapped) {
      t.Row({"tile", fmt::format("{}x{}", c.tile_m, c.tile_n)});
      t.Row({"split-K", fmt::format("{}", c.split_k)});
      t.Row({"work units / waves", fmt::format("{} / {} ({:.0f}% wave efficiency)", c.tiles, c.waves, 100 * c.wave_efficiency)});
      t.Row({"operand re-read factor", FormatNumber(c.reread_factor, 3)});
    }
    *ctx.out << fmt::format("matmul {}x{}x{}{} {} on {} ({})\n", o->m, o->n, o->k,
                            o->batch > 1 ? fmt::format(" batch {}", o->batch) : "", Name(dt), model->chip().name, ops::Name(fid))
             << t.Render() << note << "\n";
  });

  auto* at = op->add_subcommand("attention", "fused attention (FlashAttention-style prefill, or decode with --decode)");
  AddCommonOptions(at, o.get());
  at->add_option("--batch", o->batch, "sequences")->check(CLI::Range(1L, 1L << 30));
  at->add_option("--seq", o->seq, "query tokens per sequence (prefill), or new tokens with --decode (default 1)");
  at->add_option("--heads", o->heads, "query heads")->required()->check(CLI::Range(1L, 1L << 20));
  at->add_option("--kv-heads", o->kv_heads, "key/value heads (GQA; 1 = MQA; default = heads)");
  at->add_option("--head-dim", o->head_dim, "head dimension")->check(CLI::Range(1L, 1L << 16));
  at->add_option("--window", o->window, "sliding window in tokens (0 = none)");
  at->add_option("--tp", o->tp, "split heads over this many chips")->check(CLI::Range(1L, 1L << 20));
  at->add_option("--cp", o->cp, "split queries over this many chips (context parallel)")->check(CLI::Range(1L, 1L << 20));
  at->add_flag("--causal", o->causal, "causal mask");
  at->add_flag("--decode", o->decode, "decode step: --seq new tokens attend to --context cached tokens");
  at->add_option("--context", o->context, "cached tokens for --decode");
  at->add_flag("--backward", o->backward, "forward + backward");
  at->add_option("--kernel", o->kernel,
                 ops::AttentionKernelNames() +
                     " (best, the default: the best published kernel for the chip; the older ones are measured on "
                     "A100/H100-class chips only)");
  at->callback([&ctx, o] {
    DType dt;
    ops::Fidelity fid;
    std::string note;
    Diagnostics diag;
    if (o->decode && o->context <= 0) diag.Error({}, "--context", "--decode needs --context N (cached tokens), N ≥ 1");
    if (!o->decode && o->seq <= 0) diag.Error({}, "--seq", "prefill needs --seq N, N ≥ 1");
    {
      const double q = o->decode ? std::max(1.0, double(o->seq)) : double(o->seq);
      const double kv = o->decode ? double(o->context) + q : double(o->seq);
      const double work = double(o->batch) * double(o->heads) * double(o->head_dim) * q * kv;
      if (work > kMaxOpProduct) {
        diag.Error({}, "--batch/--heads/--head-dim/--seq/--context",
                   fmt::format("batch·heads·head_dim·queries·keys = {:.3g} is beyond the {:.3g} the operator model "
                               "counts; no chip runs one attention that large",
                               work, kMaxOpProduct));
      }
    }
    const auto kernel = ops::ParseAttentionKernel(o->kernel);
    if (!kernel) {
      diag.Error({}, "--kernel",
                 fmt::format("unknown attention kernel '{}'; expected {}", o->kernel, ops::AttentionKernelNames()));
    }
    if (diag.has_errors()) {
      *ctx.err << diag.Render();
      ctx.exit_code = 2;
      return;
    }
    auto model = LoadModel(*o, &dt, &fid, &note, ctx);
    if (!model) return;
    if (!model->SupportsAttention(*kernel)) {
      Diagnostics d;
      d.Error({}, "--kernel",
              fmt::format("no measured rate of {} on {} (data/calibration: the ampere and hopper families have one); "
                          "use --kernel best",
                          o->kernel, model->chip().name));
      *ctx.err << d.Render();
      ctx.exit_code = 2;
      return;
    }
    ops::AttentionShape s;
    s.kernel = *kernel;
    s.batch = o->batch;
    s.heads = o->heads;
    s.kv_heads = o->kv_heads > 0 ? o->kv_heads : o->heads;
    s.head_dim = o->head_dim;
    s.q_len = o->decode ? std::max(1L, o->seq) : o->seq;
    s.kv_len = o->decode ? o->context + s.q_len : o->seq;
    s.causal = o->causal || o->decode;
    s.window = o->window;
    s.dtype = s.kv_dtype = dt;
    s.backward = o->backward;
    s.heads_split = int(o->tp);
    s.seq_split = int(o->cp);
    const auto c = model->Attention(s, fid);
    if (o->json) {
      nlohmann::json j = {{"chip", model->chip().name},
                          {"dtype", std::string(Name(dt))},
                          {"fidelity", ops::Name(fid)},
                          {"kernel", ops::Name(s.kernel)},
                          {"time_s", c.time.value()},
                          {"compute_time_s", c.compute_time.value()},
                          {"memory_time_s", c.memory_time.value()},
                          {"overhead_s", c.overhead.value()},
                          {"flops", c.flops.value()},
                          {"bytes", c.bytes.value()},
                          {"achieved_flops_per_s", c.achieved.value()},
                          {"achieved_bytes_per_s", c.achieved_bandwidth.value()},
                          {"bound", ops::Name(c.bound)},
                          {"blocks", c.blocks},
                          {"waves", c.waves}};
      *ctx.out << j.dump(2) << "\n";
      return;
    }
    TextTable t({"quantity", "value"});
    t.AlignRight({1});
    t.Row({"time", ToString(c.time)});
    t.Row({"  compute", ToString(c.compute_time)});
    t.Row({"  memory", ToString(c.memory_time)});
    t.Row({"  kernel overhead", ToString(c.overhead)});
    t.Row({"bound", ops::Name(c.bound)});
    t.Row({"achieved", ToString(c.achieved)});
    t.Row({"achieved bandwidth", ToString(c.achieved_bandwidth)});
    t.Row({"FLOPs", ToString(c.flops)});
    t.Row({"HBM traffic", ToString(c.bytes)});
    if (fid == ops::Fidelity::kMapped) t.Row({"work units / waves", fmt::format("{} / {}", c.blocks, c.waves)});
    *ctx.out << fmt::format("attention {} batch {} heads {}/{} head_dim {} q {} kv {}{} {} on {} ({}, kernel {})\n",
                            o->decode ? "decode" : "prefill", s.batch, s.heads, s.kv_heads, s.head_dim, s.q_len,
                            s.kv_len, s.causal ? " causal" : "", Name(dt), model->chip().name, ops::Name(fid),
                            ops::Name(s.kernel))
             << t.Render() << note << "\n";
  });
}

}  // namespace pf::cli
