// Training simulator: invariants (MFU ≤ 100 %, recompute never faster, more chips at fixed
// per-chip work never faster), memory cross-checks against Korthikanti et al. 2022, the fit
// check's message, and cost independent of the number of chips.
#include <gtest/gtest.h>

#include <chrono>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "pathfinder/comm/collective.h"
#include "pathfinder/comm/topology.h"
#include "pathfinder/memory/training_memory.h"
#include "pathfinder/model/counts.h"
#include "pathfinder/ops/calibration.h"
#include "pathfinder/spec/calibration_spec.h"
#include "pathfinder/spec/chip_spec.h"
#include "pathfinder/spec/cluster_spec.h"
#include "pathfinder/spec/model_spec.h"
#include "pathfinder/train/event.h"
#include "pathfinder/train/simulator.h"

namespace pf::train {
namespace {

Simulator Make(const std::string& chip, const std::string& cluster, const std::string& model, long chips) {
  Diagnostics diag;
  auto c = spec::LoadChipPreset(chip, diag);
  auto cal = c ? spec::ResolveCalibration(*c, diag) : std::nullopt;
  auto cl = spec::LoadClusterPreset(cluster, diag);
  auto m = spec::LoadModelByName(model, diag);
  EXPECT_TRUE(c && cal && cl && m) << diag.Render();
  cl->chips = chips;
  return Simulator(*m, ops::OpModel(*c, cal->ceilings), *cl);
}

const Simulator& Gpt3H100() {
  static const Simulator s = Make("h100-sxm", "dgx-h100", "gpt3-175b", 16384);
  return s;
}

// The pipeline's part of a step: all but the data-parallel sync and the optimizer.
double PipelineSeconds(const TrainResult& r) { return (r.step.total - r.step.dp_comm - r.step.optimizer).value(); }

TrainSettings MlperfLike() {
  TrainSettings s;
  s.seq_len = 2048;
  s.micro_batch = 1;
  s.global_batch = 2048;
  s.precision = DType::kFp8;
  s.zero_stage = 1;
  s.schedule = Schedule::kInterleaved;
  s.virtual_stages = 4;
  return s;
}

// Llama 3 8B at sequence 4096, one sequence per micro-batch, bf16: the setting of the
// tests below that count bytes.
// HBM bytes per step of the activity entry `name` (-1: no such entry).
double ActivityBytes(const TrainResult& r, const std::string& name) {
  for (const OpActivity& a : r.activity)
    if (a.name == name) return a.bytes.value();
  return -1.0;
}

TrainSettings Llama8bSettings(int64_t global_batch, int zero_stage) {
  TrainSettings s;
  s.seq_len = 4096;
  s.micro_batch = 1;
  s.global_batch = global_batch;
  s.precision = DType::kBf16;
  s.zero_stage = zero_stage;
  return s;
}

TEST(TrainStep, MfuNeverAboveOneAndBreakdownSumsToTotal) {
  graph::Parallelism p{4, 8, 64, 1, 1, true};
  for (auto rc : {graph::Recompute::kNone, graph::Recompute::kSelective, graph::Recompute::kFull}) {
    TrainSettings s = MlperfLike();
    s.recompute = rc;
    const TrainResult r = Gpt3H100().Run(p, s);
    ASSERT_TRUE(r.ok) << r.reason;
    EXPECT_GT(r.mfu, 0.05);
    EXPECT_LE(r.mfu, 1.0);
    EXPECT_LE(r.hfu, 1.0);
    EXPECT_GE(r.hfu, r.mfu);
    const StepBreakdown& b = r.step;
    const Seconds sum = b.compute + b.tp_comm + b.cp_comm + b.ep_comm + b.pp_comm + b.fsdp_comm + b.bubble + b.dp_comm + b.optimizer;
    EXPECT_NEAR(sum.value(), b.total.value(), 1e-9 * b.total.value());
  }
}

TEST(TrainStep, RecomputeNeverReducesStepTime) {
  graph::Parallelism p{8, 8, 16, 1, 1, true};
  TrainSettings s = MlperfLike();
  s.recompute = graph::Recompute::kNone;
  const double none = Gpt3H100().Run(p, s).step.total.value();
  s.recompute = graph::Recompute::kSelective;
  const double sel = Gpt3H100().Run(p, s).step.total.value();
  s.recompute = graph::Recompute::kFull;
  const double full = Gpt3H100().Run(p, s).step.total.value();
  EXPECT_LE(none, sel);
  EXPECT_LT(sel, full);
  EXPECT_GT(full / none, 1.2);  // a whole extra forward pass
}

TEST(TrainStep, MoreChipsAtFixedPerChipWorkNeverFasterPerChip) {
  TrainSettings s = MlperfLike();
  // ZeRO-1 shards the optimizer step over dp, so per-chip work is only fixed without it.
  s.zero_stage = 0;
  // Fixed buckets: Megatron-Core's default grows them with dp (max(40 M, 1 M × dp)), fewer
  // calls and so less latency per chip at a larger dp — a different configuration.
  s.dp_bucket_params = 40e6;
  double last_step = 0;
  for (int dp : {1, 2, 8, 64, 256, 512}) {
    graph::Parallelism p{4, 8, dp, 1, 1, true};
    s.global_batch = 8L * dp;  // 8 micro-batches per replica at every size
    const TrainResult r = Gpt3H100().Run(p, s);
    ASSERT_TRUE(r.ok) << r.reason;
    EXPECT_GE(r.step.total.value(), last_step * (1 - 1e-12)) << "dp " << dp;
    last_step = r.step.total.value();
  }
}

TEST(TrainStep, MoreBandwidthOrFlopsNeverSlower) {
  Diagnostics diag;
  auto c = spec::LoadChipPreset("h100-sxm", diag);
  auto cal = spec::ResolveCalibration(*c, diag);
  auto cl = spec::LoadClusterPreset("dgx-h100", diag);
  auto m = spec::LoadModelByName("llama-3-70b", diag);
  cl->chips = 1024;
  graph::Parallelism p{8, 4, 32, 1, 1, true};
  TrainSettings s;
  s.seq_len = 8192;
  s.global_batch = 512;
  const double base = Simulator(*m, ops::OpModel(*c, cal->ceilings), *cl).Run(p, s).step.total.value();
  hw::Cluster fast = *cl;
  fast.scale_out.nic_bandwidth = fast.scale_out.nic_bandwidth * 2.0;
  fast.scale_up.bandwidth = fast.scale_up.bandwidth * 2.0;
  EXPECT_LE(Simulator(*m, ops::OpModel(*c, cal->ceilings), fast).Run(p, s).step.total.value(), base);
  ops::Ceilings more = cal->ceilings;
  more.matmul[DType::kBf16] = more.matmul[DType::kBf16] * 1.2;
  more.hbm = more.hbm * 1.2;
  EXPECT_LE(Simulator(*m, ops::OpModel(*c, more), *cl).Run(p, s).step.total.value(), base);
}

TEST(TrainStep, PipelineBubbleShrinksWithMicrobatchesAndVirtualStages) {
  graph::Parallelism p{8, 8, 1, 1, 1, true};
  TrainSettings s = MlperfLike();
  s.schedule = Schedule::k1F1B;
  s.global_batch = 8;
  const TrainResult few = Gpt3H100().Run(p, s);
  s.global_batch = 64;
  const TrainResult many = Gpt3H100().Run(p, s);
  EXPECT_GT(few.step.bubble / few.step.total, many.step.bubble / many.step.total);
  // 1F1B with uniform stages: bubble / (m·T) = (p − 1)/m (Narayanan et al. 2021 §2.2.1);
  // the last stage's LM head makes ours a little larger than the middle stages' sum.
  const double per_mb = (PipelineSeconds(many) - many.step.bubble.value()) / 64;
  EXPECT_NEAR(many.step.bubble.value() / per_mb, 7.0, 0.7);
  s.schedule = Schedule::kInterleaved;
  s.virtual_stages = 3;
  const TrainResult inter = Gpt3H100().Run(p, s);
  EXPECT_LT(inter.step.bubble, many.step.bubble);
}

TEST(TrainMemory, ActivationsMatchKorthikantiFormulas) {
  Diagnostics diag;
  auto a = spec::LoadModelByName("gpt3-175b", diag);
  ASSERT_TRUE(a);
  graph::StepOptions o;
  o.seq_len = 2048;
  o.micro_batch = 1;
  o.flash_attention = false;
  o.dropout = true;
  const double s = 2048, b = 1, h = a->hidden, heads = a->heads;
  for (int t : {1, 8}) {
    for (bool sp : {false, true}) {
      if (sp && t == 1) continue;
      for (auto rc : {graph::Recompute::kNone, graph::Recompute::kSelective, graph::Recompute::kFull}) {
        graph::Parallelism p{t, 1, 1, 1, 1, sp};
        o.recompute = rc;
        const double ours = memory::ActivationBytesPerLayer(*a, p, o, false).value();
        const double paper = memory::KorthikantiBytesPerLayer(s, b, h, heads, t, sp, rc);
        EXPECT_NEAR(ours / paper, 1.0, 0.01) << "t " << t << " sp " << sp << " recompute " << graph::Name(rc);
      }
    }
  }
}

// The activation's input stored in fp8 (Megatron-Core activation_func_fp8_input_store) saves
// a byte an element of the fc1 output: Llama 3 8B, 4096 tokens, two gated halves of 14336.
TEST(TrainMemory, Fp8ActivationInputSavesAByteAnElementOfTheFc1Output) {
  Diagnostics diag;
  auto a = spec::LoadModelByName("llama-3-8b", diag);
  ASSERT_TRUE(a) << diag.Render();
  graph::StepOptions o;
  o.seq_len = 4096;
  o.micro_batch = 1;
  const graph::Parallelism p{1, 1, 1, 1, 1, false};
  const double plain = memory::ActivationBytesPerLayer(*a, p, o, false).value();
  o.fp8_activation_input = true;
  EXPECT_DOUBLE_EQ(plain - memory::ActivationBytesPerLayer(*a, p, o, false).value(), 4096.0 * 2 * 14336 * 1);
  o.recompute = graph::Recompute::kFull;  // nothing of the layer is stored but its input
  const double full = memory::ActivationBytesPerLayer(*a, p, o, false).value();
  o.fp8_activation_input = false;
  EXPECT_DOUBLE_EQ(memory::ActivationBytesPerLayer(*a, p, o, false).value(), full);
}

// Selective recompute of Megatron-Core's modules: each frees exactly what it re-runs. Per
// token of a DeepSeek-V3 MoE layer (TP 1, bf16): mla_up_proj Q, K and V (128 heads ×
// (2·192 + 128) × 2 B), moe_act the routed experts' activation outputs (top-8 × 2048 × 2 B),
// layernorm the two norms' outputs (2 × h × 2 B), moe everything of the MoE layer but its
// input; core_attn (flash attention) nothing. And each re-runs its forward in backward.
TEST(TrainMemory, RecomputeModulesFreeWhatTheyReRun) {
  Diagnostics diag;
  auto a = spec::LoadModelByName("deepseek-v3", diag);
  ASSERT_TRUE(a) << diag.Render();
  graph::StepOptions o;
  o.seq_len = 4096;
  o.micro_batch = 1;
  const graph::Parallelism p{1, 1, 1, 1, 1, false};
  const double T = 4096, h = a->hidden;
  const double none = memory::ActivationBytesPerLayer(*a, p, o, true).value();
  o.recompute = graph::Recompute::kSelective;
  auto with = [&](const std::vector<std::string>& modules) {
    std::string bad;
    EXPECT_TRUE(graph::ParseRecomputeModules(modules, &o.recompute_modules, &bad)) << bad;
    return memory::ActivationBytesPerLayer(*a, p, o, true).value();
  };
  EXPECT_DOUBLE_EQ(with({"core_attn"}), none);
  EXPECT_DOUBLE_EQ(none - with({"mla_up_proj"}), T * 128 * (2 * 192 + 128) * 2);
  EXPECT_DOUBLE_EQ(none - with({"moe_act"}), T * 8 * 2048 * 2);
  EXPECT_DOUBLE_EQ(none - with({"layernorm"}), T * h * 2 * 2);
  const double moe = with({"moe"});
  EXPECT_LT(moe, with({"moe_act"}));
  EXPECT_DOUBLE_EQ(none - moe, T * 256 * 4.0 + T * 8 * (h + 2 * 2048 + 2048) * 2 + T * (2 * 2048 + 2048) * 2);

  // A dense layer's first MLP linear and activation re-run (mlp_fc1) store what a re-run MLP
  // stores, and cost less to re-run than it (the second linear is not re-run).
  {
    auto llama = spec::LoadModelByName("llama-3-8b", diag);
    ASSERT_TRUE(llama) << diag.Render();
    auto dense = [&](const std::vector<std::string>& modules) {
      std::string bad;
      EXPECT_TRUE(graph::ParseRecomputeModules(modules, &o.recompute_modules, &bad)) << bad;
      return memory::ActivationBytesPerLayer(*llama, p, o, false).value();
    };
    EXPECT_DOUBLE_EQ(dense({"mlp_fc1"}), dense({"mlp"}));
    EXPECT_LT(dense({"mlp_fc1"}), dense({"core_attn"}));
    const Simulator small = Make("h100-sxm", "dgx-h100", "llama-3-8b", 8);
    TrainSettings s = Llama8bSettings(8, 1);
    s.recompute = graph::Recompute::kSelective;
    auto rerun = [&](const std::vector<std::string>& modules) {
      std::string bad;
      EXPECT_TRUE(graph::ParseRecomputeModules(modules, &s.recompute_modules, &bad)) << bad;
      const TrainResult r = small.Run({1, 1, 8, 1, 1, false}, s);
      EXPECT_TRUE(r.ok) << r.reason;
      return r.step.recompute.value();
    };
    EXPECT_GT(rerun({"mlp_fc1"}), 0);
    EXPECT_LT(rerun({"mlp_fc1"}), rerun({"mlp"}));
  }

  // The step: every module re-run costs backward time, never less than none.
  static const Simulator sim = Make("h100-sxm", "dgx-h100", "deepseek-v3", 1024);
  TrainSettings s;
  s.seq_len = 4096;
  s.global_batch = 64;
  s.precision = DType::kBf16;
  const graph::Parallelism lay{1, 16, 64, 1, 64, false};
  const TrainResult base = sim.Run(lay, s);
  ASSERT_TRUE(base.ok) << base.reason;
  s.recompute = graph::Recompute::kSelective;
  for (const char* m : {"mla_up_proj", "moe_act", "layernorm", "moe", "shared_experts"}) {
    std::string bad;
    ASSERT_TRUE(graph::ParseRecomputeModules({m}, &s.recompute_modules, &bad));
    const TrainResult r = sim.Run(lay, s);
    ASSERT_TRUE(r.ok) << r.reason;
    EXPECT_GT(r.step.recompute.value(), 0) << m;
    EXPECT_GT(r.step.compute.value(), base.step.compute.value()) << m;
    EXPECT_GT(r.hardware_flops_per_token.value(), base.hardware_flops_per_token.value()) << m;  // HFU counts it
    EXPECT_EQ(r.model_flops_per_token.value(), base.model_flops_per_token.value()) << m;        // MFU does not
    double act = 0, act_base = 0;  // over every stage (the first holds dense layers only)
    for (size_t i = 0; i < r.memory.size(); ++i) {
      act += r.memory[i].activations.value();
      act_base += base.memory[i].activations.value();
    }
    EXPECT_LT(act, act_base) << m;
  }
}

// In FP8, Transformer Engine's linears keep the FP8 copy of their input they cast, not the
// 16-bit one: QKV, fc1 and fc2 inputs take 1 byte an element instead of 2, and the attention
// output is kept twice (16-bit for the attention, FP8 for the out-projection). Per token of a
// Llama 3 8B layer that saves h + ffn bytes; full recompute (the layer input) is unchanged.
TEST(TrainMemory, Fp8LinearsStoreTheirInputsInFp8) {
  Diagnostics diag;
  auto a = spec::LoadModelByName("llama-3-8b", diag);
  ASSERT_TRUE(a) << diag.Render();
  graph::StepOptions o;
  o.seq_len = 4096;
  o.micro_batch = 1;
  const graph::Parallelism p{1, 1, 1, 1, 1, false};
  const double bf16 = memory::ActivationBytesPerLayer(*a, p, o, false).value();
  o.matmul_dtype = DType::kFp8;
  const double fp8 = memory::ActivationBytesPerLayer(*a, p, o, false).value();
  EXPECT_DOUBLE_EQ(bf16 - fp8, 4096.0 * (4096 + 14336));
  o.recompute = graph::Recompute::kFull;
  EXPECT_DOUBLE_EQ(memory::ActivationBytesPerLayer(*a, p, o, false).value(), 4096.0 * 4096 * 2);
}

TEST(TrainMemory, InfeasibleLayoutSaysWhichStageAndHowMuch) {
  graph::Parallelism p{8, 1, 1, 1, 1, true};
  TrainSettings s = MlperfLike();
  s.schedule = Schedule::k1F1B;
  s.global_batch = 1;
  const TrainResult r = Gpt3H100().Run(p, s);
  ASSERT_TRUE(r.ok) << r.reason;
  EXPECT_FALSE(r.fits);
  EXPECT_NE(r.memory_fit.reason.find("stage 0 needs "), std::string::npos) << r.memory_fit.reason;
  EXPECT_NE(r.memory_fit.reason.find("> 85.5 GB HBM"), std::string::npos) << r.memory_fit.reason;  // 81559 MiB
}

TEST(TrainMemory, ZeroStagesShardStates) {
  graph::Parallelism p{8, 8, 16, 1, 1, true};
  TrainSettings s = MlperfLike();
  Bytes last(1e30);
  for (int z : {0, 1, 2, 3}) {
    s.zero_stage = z;
    const TrainResult r = Gpt3H100().Run(p, s);
    const memory::StageMemory& m = r.memory[0];
    const Bytes states = m.weights + m.gradients + m.optimizer;
    EXPECT_LT(states, last) << "zero " << z;
    last = states;
  }
}

TEST(TrainStep, InvalidConfigurationIsAValueWithAReason) {
  graph::Parallelism p{8, 8, 16, 1, 1, true};
  TrainSettings s = MlperfLike();
  s.global_batch = 100;
  const TrainResult r = Gpt3H100().Run(p, s);
  EXPECT_FALSE(r.ok);
  EXPECT_NE(r.reason.find("not a multiple"), std::string::npos) << r.reason;
}

TEST(TrainStep, MoeAndMlaRun) {
  const Simulator sim = Make("h100-sxm", "dgx-h100", "deepseek-v3", 2048);
  graph::Parallelism p{1, 16, 128, 1, 64, false};
  TrainSettings s;
  s.seq_len = 4096;
  s.global_batch = 8192;
  s.precision = DType::kFp8;
  s.recompute = graph::Recompute::kFull;
  const TrainResult r = sim.Run(p, s, true);
  ASSERT_TRUE(r.ok) << r.reason;
  EXPECT_GT(r.step.ep_comm.value(), 0);
  EXPECT_GT(r.mfu, 0.05);
  EXPECT_LT(r.mfu, 1.0);
  EXPECT_FALSE(r.activity.empty());
}

TEST(TrainStep, EvaluationCostDoesNotGrowWithChips) {
  // The same layout at 4 096 and 499 712 chips (both span scale-up, pod and spine levels;
  // the larger also the inter-site level): the evaluation cost is bounded by the number of
  // network levels, not the chips. Best of 5 batches to be robust to a busy machine.
  const Simulator big = Make("trainium2", "trn2-two-sites", "gpt3-175b", 499712);
  TrainSettings s = MlperfLike();
  s.precision = DType::kBf16;
  auto time_it = [&](int dp) {
    graph::Parallelism p{4, 8, dp, 1, 1, true};
    s.global_batch = 2L * dp;
    double best = 1e9;
    for (int batch = 0; batch < 5; ++batch) {
      const auto t0 = std::chrono::steady_clock::now();
      for (int i = 0; i < 20; ++i) EXPECT_TRUE(big.Run(p, s).ok);
      best = std::min(best, std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
    }
    return best;
  };
  const double small = time_it(128), huge = time_it(15616);
  EXPECT_LT(huge, small * 2.0);
}

TEST(TrainStep, RankLayoutDecidesWhichLinksTheGroupsCross) {
  // TP innermost keeps the TP group inside an 8-GPU NVLink domain; TP outermost spreads it
  // over the InfiniBand fabric: the same degrees, slower TP collectives.
  graph::Parallelism p{8, 4, 32, 1, 1, true};
  TrainSettings s = MlperfLike();
  s.schedule = Schedule::k1F1B;
  s.global_batch = 256;
  const TrainResult inner = Gpt3H100().Run(p, s);
  s.layout = "pp,dp,cp,ep,tp";
  const TrainResult outer = Gpt3H100().Run(p, s);
  ASSERT_TRUE(inner.ok && outer.ok) << inner.reason << outer.reason;
  EXPECT_GT(outer.step.tp_comm.value(), 3 * inner.step.tp_comm.value());
  s.layout = "tp,xp";
  EXPECT_FALSE(Gpt3H100().Run(p, s).ok);
}

TEST(TrainStep, TensorParallelOverlapOnlyHidesCommunication) {
  graph::Parallelism p{8, 8, 16, 1, 1, true};
  TrainSettings s = MlperfLike();
  const TrainResult exposed = Gpt3H100().Run(p, s);
  s.overlap_tp_comm = true;
  const TrainResult hidden = Gpt3H100().Run(p, s);
  EXPECT_LT(hidden.step.tp_comm, exposed.step.tp_comm);
  // TE's userbuffers never hide it all: the chunked GEMMs cost more than the whole ones and
  // the pipelined reduce-scatter's last chunk waits for nothing to hide behind.
  EXPECT_GT(hidden.step.tp_comm.value(), 0.0);
  EXPECT_DOUBLE_EQ(hidden.step.compute.value(), exposed.step.compute.value());
}

TEST(TrainStep, UserbufferOverlapFollowsItsConfiguration) {
  graph::Parallelism p{8, 8, 16, 1, 1, true};
  TrainSettings s = MlperfLike();
  s.overlap_tp_comm = true;
  auto tp = [&](const TrainSettings& x) {
    const TrainResult r = Gpt3H100().Run(p, x);
    EXPECT_TRUE(r.ok) << r.reason;
    return r.step.tp_comm.value();
  };
  const double te_defaults = tp(s);
  TrainSettings more_sms = s;  // the pipelined reduce-scatters take more SMs from their GEMMs
  more_sms.tp_overlap.proj_fprop_sms = more_sms.tp_overlap.fc2_fprop_sms = 64;
  EXPECT_GT(tp(more_sms), te_defaults);
  TrainSettings no_bulk_sms = s;  // bulk collectives that hold no SMs slow no GEMM
  no_bulk_sms.tp_overlap.qkv_dgrad_sms = no_bulk_sms.tp_overlap.qkv_wgrad_sms = 0;
  no_bulk_sms.tp_overlap.fc1_dgrad_sms = no_bulk_sms.tp_overlap.fc1_wgrad_sms = 0;
  EXPECT_LT(tp(no_bulk_sms), te_defaults);
  // What a bulk collective's SMs cost its GEMM follows the measured matmul slowdown beside
  // held SMs (ops::MatmulSlowdownBesideHeldCores), not their share of the 132: two SMs cost
  // (1 − 1/f(2)) / (1 − 1/f(1)) ≈ 1.30 times what one does, where the share would give 2.
  auto bulk = [&](int sms) {
    TrainSettings x = s;
    x.tp_overlap.qkv_dgrad_sms = x.tp_overlap.qkv_wgrad_sms = sms;
    x.tp_overlap.fc1_dgrad_sms = x.tp_overlap.fc1_wgrad_sms = sms;
    return tp(x) - tp(no_bulk_sms);
  };
  const double f1 = ops::MatmulSlowdownBesideHeldCores(1.0 / 132), f2 = ops::MatmulSlowdownBesideHeldCores(2.0 / 132);
  ASSERT_GT(bulk(1), 0.0);
  EXPECT_NEAR(bulk(2) / bulk(1), (1 - 1 / f2) / (1 - 1 / f1), 1e-6);
  TrainSettings one_split = s;  // one chunk: the whole reduce-scatter waits for the whole GEMM
  one_split.tp_overlap.splits = 1;
  EXPECT_GT(tp(one_split), te_defaults);
  TrainSettings ring = s;
  ring.tp_overlap.proj_fprop_ring = ring.tp_overlap.fc2_fprop_ring = true;
  EXPECT_NE(tp(ring), te_defaults);
  // Megatron-Core's tp_comm_overlap_disable_qkv: the gather before the qkv GEMM runs alone.
  TrainSettings qkv_alone = s;
  qkv_alone.tp_overlap.qkv_fprop = false;
  EXPECT_GT(tp(qkv_alone), te_defaults);
  // A frozen (LoRA) base has no wgrad GEMM for the bulk reduce-scatter to hide behind: the
  // dgrad output's reduce-scatter is exposed whole unless it overlaps the dgrad GEMM itself
  // (tp_comm_overlap_rs_dgrad), by ring exchange or a pipeline.
  TrainSettings lora = s;
  lora.lora_rank = 16;
  lora.lora_targets = {"qkv", "proj"};
  const double lora_bulk = tp(lora);
  TrainSettings rs_ring = lora, rs_pipe = lora;
  rs_ring.tp_overlap.qkv_rs_dgrad = rs_ring.tp_overlap.fc1_rs_dgrad = TpOverlap::RsDgrad::kRing;
  rs_pipe.tp_overlap.qkv_rs_dgrad = rs_pipe.tp_overlap.fc1_rs_dgrad = TpOverlap::RsDgrad::kPipeline;
  EXPECT_LT(tp(rs_ring), lora_bulk);
  EXPECT_LT(tp(rs_pipe), lora_bulk);
  TrainSettings all_sms = s;  // a collective may not take every SM from its GEMM
  all_sms.tp_overlap.proj_fprop_sms = 132;
  const TrainResult none_left = Gpt3H100().Run(p, all_sms);
  EXPECT_FALSE(none_left.ok);
  EXPECT_NE(none_left.reason.find("132 cores"), std::string::npos) << none_left.reason;
  // Megatron-LM refuses TP overlap without sequence parallelism.
  p.sequence_parallel = false;
  const TrainResult no_sp = Gpt3H100().Run(p, s);
  EXPECT_FALSE(no_sp.ok);
  EXPECT_NE(no_sp.reason.find("sequence parallelism"), std::string::npos) << no_sp.reason;
}

TEST(TrainSettings, ParsesTransformerEngineUbConfig) {
  TpOverlap o;
  std::string err;
  ASSERT_TRUE(
      ParseTpOverlap("qkv_dgrad=bulk:2 qkv_wgrad=bulk:4 fc1_dgrad=bulk:3 fc1_wgrad=bulk:5 "
                     "proj_fprop=pipeline:24 fc2_fprop=ring_exchange",
                     &o, &err))
      << err;
  EXPECT_EQ(o.qkv_dgrad_sms, 2);
  EXPECT_EQ(o.qkv_wgrad_sms, 4);
  EXPECT_EQ(o.fc1_dgrad_sms, 3);
  EXPECT_EQ(o.fc1_wgrad_sms, 5);
  EXPECT_FALSE(o.proj_fprop_ring);
  EXPECT_EQ(o.proj_fprop_sms, 24);
  EXPECT_TRUE(o.fc2_fprop_ring);
  EXPECT_EQ(o.fc2_fprop_sms, 16);  // TE's default, untouched
  EXPECT_TRUE(o.qkv_fprop && o.fc1_fprop);  // TE's default ring exchange
  EXPECT_EQ(o.qkv_rs_dgrad, TpOverlap::RsDgrad::kBulk);
  ASSERT_TRUE(ParseTpOverlap("qkv_fprop=none fc1_dgrad=ring_exchange qkv_dgrad=pipeline:8", &o, &err)) << err;
  EXPECT_FALSE(o.qkv_fprop);
  EXPECT_TRUE(o.fc1_fprop);
  EXPECT_EQ(o.fc1_rs_dgrad, TpOverlap::RsDgrad::kRing);
  EXPECT_EQ(o.qkv_rs_dgrad, TpOverlap::RsDgrad::kPipeline);
  EXPECT_EQ(o.qkv_dgrad_sms, 8);
  for (const char* bad : {"proj_fprop=bulk:4", "qkv_dgrad=bulk", "fc2_fprop=pipeline:x", "qkv_fprop=pipeline:4",
                          "fc2_fprop=ring_exchange:2", "proj_fprop=none", "fc1_dgrad=ring_exchange:2"}) {
    TpOverlap x;
    err.clear();
    EXPECT_FALSE(ParseTpOverlap(bad, &x, &err)) << bad;
    EXPECT_NE(err.find(bad), std::string::npos) << err;
  }
}

TEST(TrainStep, ContextParallelSplitsActivationsAndAddsRingTraffic) {
  const Simulator sim = Make("h100-sxm", "dgx-h100", "llama-3-70b", 1024);
  TrainSettings s;
  s.seq_len = 32768;
  s.global_batch = 64;
  graph::Parallelism no_cp{8, 4, 16, 1, 1, true}, cp{8, 4, 8, 2, 1, true};
  const TrainResult a = sim.Run(no_cp, s), b = sim.Run(cp, s);
  ASSERT_TRUE(a.ok && b.ok) << a.reason << b.reason;
  EXPECT_EQ(a.step.cp_comm.value(), 0.0);
  EXPECT_GE(b.step.cp_comm.value(), 0.0);
  // Per micro-batch, CP halves each chip's tokens and so its activations per micro-batch.
  const double per_mb_a = a.memory[3].activations.value() / a.memory[3].in_flight;
  const double per_mb_b = b.memory[3].activations.value() / b.memory[3].in_flight;
  EXPECT_LT(per_mb_b, 0.6 * per_mb_a);
}

TEST(EventMode, AgreesWithFastModeWhereNothingOverlaps) {
  // Uniform stages (no embedding/head imbalance matters at this size) and 1F1B: both are
  // (m + p − 1)·(F + B) up to the head stage's extra time.
  graph::Parallelism p{8, 8, 1, 1, 1, true};
  TrainSettings s = MlperfLike();
  s.schedule = Schedule::k1F1B;
  s.global_batch = 32;
  const TrainResult fast = Gpt3H100().Run(p, s);
  ASSERT_TRUE(fast.ok) << fast.reason;
  std::string trace;
  const EventResult ev = RunEvents(fast, s, &trace);
  EXPECT_EQ(ev.events, 2L * 8 * 32);
  EXPECT_NEAR(ev.total.value() / fast.step.total.value(), 1.0, 0.03);
  EXPECT_NE(trace.find("\"traceEvents\""), std::string::npos);
  // Interleaved: the event schedule is never faster than the compute alone.
  s.schedule = Schedule::kInterleaved;
  s.virtual_stages = 3;
  const TrainResult fi = Gpt3H100().Run(p, s);
  const EventResult ei = RunEvents(fi, s);
  EXPECT_GE(ei.pipeline.value(), (fi.step.compute).value() * 0.999);
  EXPECT_NEAR(ei.total.value() / fi.step.total.value(), 1.0, 0.05);
}

// Megatron-LM's overlap_p2p_comm takes the send/recv out of the steady state, but the first
// micro-batch still waits for each hop on its way through the stages: what stays exposed is
// (pp − 1) stages × 2 hops per chunk, the same as the event mode's non-blocking sends.
TEST(TrainStep, OverlappedPipelineSendsStayExposedOnTheFillChain) {
  graph::Parallelism p{8, 8, 1, 1, 1, true};
  TrainSettings s = MlperfLike();
  s.schedule = Schedule::k1F1B;
  s.global_batch = 32;
  const TrainResult blocking = Gpt3H100().Run(p, s);
  s.overlap_pp_comm = true;
  const TrainResult overlapped = Gpt3H100().Run(p, s);
  ASSERT_TRUE(blocking.ok && overlapped.ok) << blocking.reason << overlapped.reason;
  const double hop = overlapped.stages[0].p2p.value();
  ASSERT_GT(hop, 0);
  EXPECT_LT(overlapped.step.total.value(), blocking.step.total.value());
  // Blocking: 2 hops per micro-batch on the critical stage plus 2 per other stage on the fill.
  EXPECT_NEAR(blocking.step.pp_comm.value(), 2 * hop * 32, 1e-9);
  EXPECT_NEAR(overlapped.step.pp_comm.value(), 2 * hop * 7, 1e-9);
  EXPECT_NEAR(blocking.step.total.value() - overlapped.step.total.value(), 2 * hop * 32, 1e-9);
  const EventResult ev = RunEvents(overlapped, s);
  EXPECT_NEAR(ev.pipeline.value() / PipelineSeconds(overlapped), 1.0, 0.03);
}

// Interleaved (Megatron allows overlap_p2p_comm only there): overlap always saves time, and
// the event mode, which plays out the schedule's wrap-around waits (chunk c + 1 of the first
// micro-batch waits for its way round all pp stages), is at most a few percent longer than
// the fast mode, which charges only the fill chain (measured here: 0 % at v 3, +0.4 % at v 6,
// +2.4 % at v 12 with 0.28 ms hops).
TEST(TrainStep, InterleavedOverlapAgreesWithEventModeWithinItsWrapAroundWaits) {
  for (int v : {3, 6, 12}) {
    graph::Parallelism p{4, 8, 16, 1, 1, true};
    TrainSettings s = MlperfLike();
    s.virtual_stages = v;
    s.global_batch = 16 * 16;
    const TrainResult blocking = Gpt3H100().Run(p, s);
    s.overlap_pp_comm = true;
    const TrainResult r = Gpt3H100().Run(p, s);
    ASSERT_TRUE(r.ok && blocking.ok) << r.reason;
    EXPECT_LT(r.step.total.value(), blocking.step.total.value()) << v;
    const double fast = PipelineSeconds(r);
    const double ev = RunEvents(r, s).pipeline.value();
    EXPECT_GE(ev / fast, 0.995) << v;
    EXPECT_LE(ev / fast, 1.03) << v;
  }
}

// Every stage has a compute, a send and a data-parallel track. A pass's output leaves on
// the sender's send track and the receiver's pass starts no earlier than the send has
// ended; each stage syncs its own gradients after its own last backward, so under 1F1B the
// last stage (done first) syncs while stage 0 still drains, and the step is never longer
// than the fast mode's, which waits for the slowest stage's sync after the whole pipeline.
TEST(EventMode, StagesSyncTheirOwnGradientsOnACommunicationStream) {
  graph::Parallelism p{8, 4, 16, 1, 1, true};
  TrainSettings s = MlperfLike();
  s.schedule = Schedule::k1F1B;
  s.global_batch = 16 * 8;
  s.zero_stage = 1;
  const TrainResult fast = Gpt3H100().Run(p, s);
  ASSERT_TRUE(fast.ok) << fast.reason;
  ASSERT_EQ(fast.microbatches, 8);
  std::string text;
  const EventResult ev = RunEvents(fast, s, &text);
  EXPECT_LE(ev.total.value(), fast.step.total.value() * (1 + 1e-12));
  EXPECT_GT(ev.total.value(), ev.pipeline.value());
  const nlohmann::json t = nlohmann::json::parse(text);
  struct Slice {
    std::string name;
    double start, end;
  };
  std::map<int, std::vector<Slice>> by_tid;
  std::map<int, std::string> names;
  for (const auto& e : t["traceEvents"]) {
    if (e["ph"] == "M" && e["name"] == "thread_name") names[e["tid"].get<int>()] = e["args"]["name"];
    if (e["ph"] != "X") continue;
    const double ts = e["ts"].get<double>(), dur = e["dur"].get<double>();
    by_tid[e["tid"].get<int>()].push_back({e["name"].get<std::string>(), ts, ts + dur});
  }
  auto find = [&](int tid, const std::string& name) -> const Slice* {
    for (const Slice& x : by_tid[tid])
      if (x.name == name) return &x;
    return nullptr;
  };
  // The trace prints ts and dur rounded to 1 ns (0.001 µs) each, so a slice's end (ts + dur)
  // and the next slice's start may each be off by 0.5 ns: compare with 2 ns of slack.
  constexpr double kSlack = 2e-3;
  for (int st = 0; st < 4; ++st) {
    EXPECT_EQ(names[3 * st], "stage " + std::to_string(st) + " compute");
    EXPECT_EQ(names[3 * st + 1], "stage " + std::to_string(st) + " pp send");
    EXPECT_EQ(names[3 * st + 2], "stage " + std::to_string(st) + " data-parallel");
    ASSERT_NE(find(3 * st + 2, "dp gradient sync"), nullptr) << st;
    ASSERT_NE(find(3 * st + 2, "dp parameter all-gather"), nullptr) << st;
    ASSERT_NE(find(3 * st, "optimizer"), nullptr) << st;
    EXPECT_GE(find(3 * st, "optimizer")->start, find(3 * st + 2, "dp gradient sync")->end - kSlack);
    if (st == 3) continue;
    // Forward sends go to the next stage; its forward of the same micro-batch waits for them.
    for (int mb = 0; mb < 8; ++mb) {
      const Slice* send = find(3 * st + 1, "send F" + std::to_string(mb));
      const Slice* recv = find(3 * (st + 1), "F" + std::to_string(mb));
      ASSERT_TRUE(send && recv) << st << " " << mb;
      EXPECT_GE(recv->start, send->end - kSlack);
    }
  }
  const Slice* last_b0 = find(0, "B7");
  ASSERT_NE(last_b0, nullptr);
  EXPECT_LT(find(3 * 3 + 2, "dp gradient sync")->start, last_b0->end);
}

TEST(EventMode, OneStageTakesTheFastModesStepTime) {
  graph::Parallelism p{8, 1, 16, 1, 1, true};
  TrainSettings s = MlperfLike();
  s.global_batch = 16 * 4;
  s.zero_stage = 1;
  const Simulator sim = Make("h100-sxm", "dgx-h100", "llama-3-8b", 128);
  const TrainResult fast = sim.Run(p, s);
  ASSERT_TRUE(fast.ok) << fast.reason;
  ASSERT_GT(fast.step.dp_comm.value() + fast.step.optimizer.value(), 0);
  const EventResult ev = RunEvents(fast, s);
  EXPECT_NEAR(ev.total.value(), fast.step.total.value(), fast.step.total.value() * 1e-9);
}

TEST(EventMode, Llama405bSixteenStagesIsFast) {
  const Simulator sim = Make("h100-sxm", "dgx-h100", "llama-3.1-405b", 16384);
  graph::Parallelism p{8, 16, 128, 1, 1, true};
  TrainSettings s;
  s.seq_len = 8192;
  s.global_batch = 2048;  // 16 micro-batches per replica… use more below
  s.global_batch = 128L * 64;
  s.schedule = Schedule::kInterleaved;
  s.virtual_stages = 7;  // 126 layers = 16 × 7 + 14: not divisible, falls back below
  s.virtual_stages = 1;
  s.schedule = Schedule::k1F1B;
  const TrainResult r = sim.Run(p, s);
  ASSERT_TRUE(r.ok) << r.reason;
  EXPECT_EQ(r.microbatches, 64);
  const auto t0 = std::chrono::steady_clock::now();
  const EventResult ev = RunEvents(r, s);
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  EXPECT_LT(secs, 0.2);
  EXPECT_NEAR(ev.total.value() / r.step.total.value(), 1.0, 0.05);
}

// An older attention kernel only slows the attention core (its forward and backward), and
// a kernel without a measured rate on the chip makes the run a value with the reason.
TEST(TrainStep, OlderAttentionKernelSlowsOnlyTheAttentionCore) {
  graph::Parallelism p{4, 8, 64, 1, 1, true};
  TrainSettings s = MlperfLike();
  const TrainResult best = Gpt3H100().Run(p, s, true);
  s.attention_kernel = ops::AttentionKernel::kFlash2;
  const TrainResult fa2 = Gpt3H100().Run(p, s, true);
  ASSERT_TRUE(best.ok && fa2.ok) << fa2.reason;
  EXPECT_GT(fa2.step.total.value(), best.step.total.value());
  std::map<std::string, double> a, b;
  for (const OpActivity& x : best.activity) a[x.name] += x.time.value();
  for (const OpActivity& x : fa2.activity) b[x.name] += x.time.value();
  ASSERT_EQ(a.size(), b.size());
  for (const auto& [name, t] : a) {
    if (name.find("attention core") != std::string::npos)
      EXPECT_GT(b[name], 1.3 * t) << name;
    else
      EXPECT_DOUBLE_EQ(b[name], t) << name;
  }
  static const Simulator b200 = Make("b200", "hgx-b200", "gpt3-175b", 1024);
  const TrainResult none = b200.Run(graph::Parallelism{4, 8, 32, 1, 1, true}, s);
  EXPECT_FALSE(none.ok);
  EXPECT_NE(none.reason.find("attention_kernel flash-attention-2 has no measured rate on b200"), std::string::npos)
      << none.reason;
}

// FP8 current scaling costs one more read of every cast operand (its amax pass), so it is
// never faster than delayed scaling, and the amax ops show in the activity.
TEST(TrainStep, Fp8CurrentScalingAmaxPassIsCostedAndNeverFaster) {
  graph::Parallelism p{4, 8, 64, 1, 1, true};
  TrainSettings s = MlperfLike();
  const TrainResult delayed = Gpt3H100().Run(p, s, true);
  s.fp8_current_scaling = true;
  const TrainResult current = Gpt3H100().Run(p, s, true);
  ASSERT_TRUE(delayed.ok && current.ok);
  EXPECT_GT(current.step.compute.value(), delayed.step.compute.value());
  double amax_time = 0;
  for (const OpActivity& a : current.activity)
    if (a.kind == graph::OpKind::kAmax) amax_time += a.time.value();
  EXPECT_GT(amax_time, 0);
  for (const OpActivity& a : delayed.activity) EXPECT_NE(a.kind, graph::OpKind::kAmax);
}

// Storing the activation's input in fp8 costs a cast each way: per MLP, the forward reads
// the 16-bit fc1 output (2 bytes an element of both gated halves) and writes 1 byte; the
// backward the reverse. The step is never faster for it.
TEST(TrainStep, Fp8ActivationInputStoreCostsOneCastEachWay) {
  TrainSettings s = Llama8bSettings(8, 1);  // one micro-batch of 4096 tokens per chip
  const Simulator sim = Make("h100-sxm", "dgx-h100", "llama-3-8b", 8);
  const graph::Parallelism p{1, 1, 8, 1, 1, false};
  const TrainResult plain = sim.Run(p, s, true);
  s.fp8_activation_input = true;
  const TrainResult stored = sim.Run(p, s, true);
  ASSERT_TRUE(plain.ok && stored.ok) << plain.reason << stored.reason;
  EXPECT_GT(stored.step.compute.value(), plain.step.compute.value());
  double bytes = 0;
  int ops = 0;
  for (const OpActivity& a : stored.activity) {
    if (a.kind != graph::OpKind::kActivationStore) continue;
    bytes += a.bytes.value();
    ++ops;
  }
  for (const OpActivity& a : plain.activity) EXPECT_NE(a.kind, graph::OpKind::kActivationStore);
  EXPECT_EQ(ops, 2);  // the forward cast and the backward one (activity is per op of one layer)
  // Llama 3 8B: 4096 tokens × 2 × 14336 gated elements, 3 bytes each way, 32 layers.
  const double per_layer = 4096.0 * 2 * 14336 * 3 * 2;
  EXPECT_NEAR(bytes, per_layer * 32, 0.02 * per_layer * 32);
}

// Full recompute of some layers sits between none and all of them: the step time, the
// recomputed FLOPs (HFU) and the activations each move by the share of recomputed layers,
// and a count a chunk cannot hold is an error with its reason.
TEST(TrainStep, FullRecomputeOfSomeLayersSitsBetweenNoneAndAll) {
  TrainSettings s = Llama8bSettings(8, 1);  // one micro-batch of 4096 tokens per chip, 32 layers
  const Simulator sim = Make("h100-sxm", "dgx-h100", "llama-3-8b", 8);
  const graph::Parallelism p{1, 1, 8, 1, 1, false};
  const TrainResult none = sim.Run(p, s);
  s.recompute = graph::Recompute::kFull;
  const TrainResult all = sim.Run(p, s);
  s.recompute_layers = 8;  // a quarter of the layers
  const TrainResult some = sim.Run(p, s);
  ASSERT_TRUE(none.ok && all.ok && some.ok) << none.reason << all.reason << some.reason;
  EXPECT_NEAR(some.step.recompute.value(), all.step.recompute.value() / 4, 0.01 * all.step.recompute.value());
  EXPECT_GT(some.step.total.value(), none.step.total.value());
  EXPECT_LT(some.step.total.value(), all.step.total.value());
  EXPECT_NEAR(some.hfu - some.mfu, (all.hfu - all.mfu) / 4 * all.step.total.value() / some.step.total.value(),
              0.01 * (all.hfu - all.mfu));
  const double a_none = none.memory[0].activations.value(), a_all = all.memory[0].activations.value(),
               a_some = some.memory[0].activations.value();
  EXPECT_GT(a_some, a_all);
  EXPECT_LT(a_some, a_none);
  s.recompute_layers = 32;  // every layer: as recompute_layers 0
  EXPECT_DOUBLE_EQ(sim.Run(p, s).step.total.value(), all.step.total.value());
  s.recompute_layers = 33;
  const TrainResult over = sim.Run(p, s);
  EXPECT_FALSE(over.ok);
  EXPECT_NE(over.reason.find("recompute_layers 33 is more than the 32 layers of a pipeline stage"), std::string::npos)
      << over.reason;
  s.recompute = graph::Recompute::kSelective;
  s.recompute_layers = 4;
  const TrainResult sel = sim.Run(p, s);
  EXPECT_FALSE(sel.ok);
  EXPECT_NE(sel.reason.find("needs recompute: full (not selective)"), std::string::npos) << sel.reason;
}

// The backward sums the two gradients of each block's input (the residual path's and the
// norm's): an add kernel per block in eager autograd (read both, write the sum); compiled,
// the sum rides in the norm backward, which reads the residual's gradient too — a third of
// the bytes and no kernel of its own. Nothing else in the step changes.
TEST(TrainStep, ResidualGradientSumIsAnAddKernelUnlessCompiled) {
  TrainSettings s = Llama8bSettings(8, 1);  // one micro-batch of 4096 tokens per chip
  const Simulator sim = Make("h100-sxm", "dgx-h100", "llama-3-8b", 8);
  const graph::Parallelism p{1, 1, 8, 1, 1, false};
  const TrainResult eager = sim.Run(p, s, true);
  s.compiled = true;
  const TrainResult compiled = sim.Run(p, s, true);
  ASSERT_TRUE(eager.ok && compiled.ok) << eager.reason << compiled.reason;
  struct Sum {
    double bytes = 0, time = 0;
  };
  std::map<std::string, Sum> a, b;  // by name (the attention and MLP blocks' ops share names)
  for (const OpActivity& x : eager.activity) a[x.name].bytes += x.bytes.value(), a[x.name].time += x.time.value();
  for (const OpActivity& x : compiled.activity) b[x.name].bytes += x.bytes.value(), b[x.name].time += x.time.value();
  ASSERT_EQ(a.size(), b.size());
  const std::string sum = "residual (dense, backward)";
  ASSERT_TRUE(a.count(sum) && b.count(sum));
  // 32 layers × 2 blocks × 4096 tokens × 4096 wide, bf16: read 2, write 1 each.
  const double elements = 32.0 * 2 * 4096 * 4096;
  EXPECT_DOUBLE_EQ(a[sum].bytes, elements * 2 * 3);
  EXPECT_DOUBLE_EQ(b[sum].bytes, elements * 2);
  EXPECT_GT(a[sum].time, 3 * b[sum].time);  // and 64 kernels' overhead
  for (const auto& [name, x] : a) {
    if (name != sum) {
      EXPECT_DOUBLE_EQ(b[name].time, x.time) << name;
    }
  }
  EXPECT_NEAR(eager.step.compute.value() - compiled.step.compute.value(), a[sum].time - b[sum].time, 1e-9);
}

// Train metrics on the logits (Composer's two on llm-foundry's models) run on the last stage
// once per micro-batch: each reads the bf16 logits, writes and reads them in fp32, and writes
// the fp32 log-softmax — 14 bytes a logit — and adds exactly its time to the step.
TEST(TrainStep, LogitMetricsReadTheLogitsOncePerMicrobatchEach) {
  TrainSettings s = Llama8bSettings(16, 1);  // two micro-batches of 4096 tokens per chip
  const Simulator sim = Make("h100-sxm", "dgx-h100", "llama-3-8b", 8);
  const graph::Parallelism p{1, 1, 8, 1, 1, false};
  const TrainResult none = sim.Run(p, s, true);
  s.logit_metrics = 2;
  const TrainResult two = sim.Run(p, s, true);
  ASSERT_TRUE(none.ok && two.ok) << none.reason << two.reason;
  double bytes = 0, time = 0, count = 0;
  for (const OpActivity& x : two.activity)
    if (x.kind == graph::OpKind::kLogitMetric) bytes += x.bytes.value(), time += x.time.value(), count += x.count;
  for (const OpActivity& x : none.activity) EXPECT_NE(x.kind, graph::OpKind::kLogitMetric) << x.name;
  EXPECT_DOUBLE_EQ(count, 2 * 2);  // two metrics, two micro-batches
  EXPECT_DOUBLE_EQ(bytes, 2.0 * 2 * 4096 * 128256 * 14);
  EXPECT_NEAR(two.step.compute.value() - none.step.compute.value(), time, 1e-9);
  EXPECT_GT(time, 0);
}

// Transformer Engine's GroupedLinear runs one cuBLAS GEMM per local expert, round-robin on 4
// compute streams (TE 2.9 multi_stream_cublas_gemm): 16 local experts are 4 rounds of 4
// concurrent GEMMs, each round its own launch, instead of one grouped kernel. Same FLOPs,
// never faster; as many streams as experts is the grouped kernel's time again.
TEST(TrainStep, ExpertGemmsOnStreamsRunInRoundsOfConcurrentGemms) {
  const Simulator sim = Make("h100-sxm", "dgx-h100", "qwen3-30b-a3b", 8);
  const ops::OpModel& om = sim.op_model();
  const graph::Parallelism p{1, 1, 8, 1, 8, false};  // EP 8: 128 / 8 = 16 local experts
  TrainSettings s = Llama8bSettings(8, 1);
  auto expert_fc1_forward = [&](int streams, double* flops) {
    s.expert_gemm_streams = streams;
    const TrainResult r = sim.Run(p, s, true);
    EXPECT_TRUE(r.ok) << r.reason;
    for (const OpActivity& x : r.activity) {
      if (x.name == "expert fc1 (moe, forward)") {
        *flops = x.flops.value();
        return std::pair{x.time.value(), x.count};
      }
    }
    ADD_FAILURE() << "no expert fc1 forward";
    return std::pair{0.0, 0.0};
  };
  double f0 = 0, f4 = 0, f16 = 0;
  const auto [grouped, count] = expert_fc1_forward(0, &f0);
  const auto [rounds, count4] = expert_fc1_forward(4, &f4);
  const auto [concurrent, count16] = expert_fc1_forward(16, &f16);
  // 4096 tokens × top-8 over 16 local experts: 2048 rows each; gated fc1 2 × 768 wide.
  const ops::MatmulShape four{2048, 2 * 768, 2048, 4};
  EXPECT_NEAR(rounds, count4 * 4 * om.Matmul(four, DType::kBf16).time.value(), 1e-12);
  EXPECT_DOUBLE_EQ(f4, f0);
  EXPECT_GT(rounds, grouped);
  EXPECT_DOUBLE_EQ(concurrent, grouped);
  EXPECT_DOUBLE_EQ(f16, f0);
  EXPECT_EQ(count, count4);
  EXPECT_EQ(count, count16);
  s.expert_gemm_streams = -1;
  EXPECT_FALSE(sim.Run(p, s).ok);
}

namespace pf::train {
namespace {

TEST(TrainStep, UnevenStagesMustAccountForEveryLayer) {
  // GPT-3 has 96 layers: with pp = 2 the first and last stage are all there is.
  TrainSettings s = MlperfLike();
  s.schedule = Schedule::k1F1B;
  s.virtual_stages = 1;
  s.first_stage_layers = 7;
  s.last_stage_layers = 7;
  const graph::Parallelism p{8, 2, 1024, 1, 1, true};
  const TrainResult bad = Gpt3H100().Run(p, s);
  EXPECT_FALSE(bad.ok);
  EXPECT_NE(bad.reason.find("do not fit 96 layers"), std::string::npos) << bad.reason;
  s.first_stage_layers = 47;
  s.last_stage_layers = 49;
  const TrainResult good = Gpt3H100().Run(p, s);
  EXPECT_TRUE(good.ok) << good.reason;
  EXPECT_LE(good.mfu, 1.0);
  // pp = 4: two middle stages need at least one layer each.
  s.first_stage_layers = 50;
  s.last_stage_layers = 45;
  EXPECT_FALSE(Gpt3H100().Run(graph::Parallelism{8, 4, 512, 1, 1, true}, s).ok);
}


// LoRA on the same model and layout: faster than full fine-tuning (no wgrad for frozen
// weights, adapters-only DP reduction and optimizer), and the memory saved per chip is the
// gradients + optimizer states of the frozen weights, less the adapters' own states and
// their small stored activations (within 2 %).
// What one chip sends in a step (for the link energy): a pure data-parallel step
// all-reduces the gradients once — 2(n−1)/n of them per rank; a pure tensor-parallel step
// sends per micro-batch, so twice the micro-batches send twice the bytes; one chip sends
// nothing.
TEST(TrainStep, LinkBytesFollowTheCollectivesOfTheLayout) {
  Diagnostics d;
  const auto arch = spec::LoadModelByName("llama-3-8b", d);
  ASSERT_TRUE(arch) << d.Render();
  TrainSettings s = Llama8bSettings(64, 0);
  const Simulator sim = Make("h100-sxm", "dgx-h100", "llama-3-8b", 8);
  const TrainResult dp = sim.Run({1, 1, 8, 1, 1, false}, s);
  ASSERT_TRUE(dp.ok) << dp.reason;
  const double grads = model::Count(*arch).total_params * BytesPerElement(s.grad_dtype);
  EXPECT_NEAR(dp.link_sent.value(), 2.0 * 7 / 8 * grads, 1e-6 * grads);
  const TrainResult tp = sim.Run({8, 1, 1, 1, 1, false}, s);
  ASSERT_TRUE(tp.ok) << tp.reason;
  EXPECT_GT(tp.link_sent.value(), 0);
  s.global_batch = 128;
  const TrainResult tp2 = sim.Run({8, 1, 1, 1, 1, false}, s);
  EXPECT_NEAR(tp2.link_sent.value(), 2 * tp.link_sent.value(), 1e-9 * tp.link_sent.value());
  const Simulator one = Make("h100-sxm", "dgx-h100", "llama-3-8b", 1);
  EXPECT_EQ(one.Run({1, 1, 1, 1, 1, false}, s).link_sent.value(), 0);
}

// Gradients reduced in fp32 (Apex DistributedFusedAdam's default grad_sync_dtype, Composer's
// FSDP 'DEFAULT' mixed precision) send twice the bytes of bf16 ones, and the reduction takes
// longer; the forward and backward are untouched.
TEST(TrainStep, Fp32GradientReductionSendsTwiceTheBytes) {
  TrainSettings s = Llama8bSettings(64, 1);
  s.overlap_dp_comm = false;
  const Simulator sim = Make("h100-sxm", "dgx-h100", "llama-3-8b", 64);
  const graph::Parallelism p{1, 1, 64, 1, 1, false};
  const TrainResult bf16 = sim.Run(p, s);
  s.grad_dtype = DType::kFp32;
  const TrainResult fp32 = sim.Run(p, s);
  ASSERT_TRUE(bf16.ok && fp32.ok) << bf16.reason << fp32.reason;
  const Seconds grad16 = bf16.stages[0].dp_grad, grad32 = fp32.stages[0].dp_grad;
  EXPECT_GT(grad32.value(), 1.5 * grad16.value());
  EXPECT_LE(grad32.value(), 2.0 * grad16.value() * (1 + 1e-9));
  EXPECT_EQ(fp32.step.compute.value(), bf16.step.compute.value());
  EXPECT_GT(fp32.step.dp_comm.value(), bf16.step.dp_comm.value());
}

// Hybrid sharding (shard_group): the ZeRO state spans shard_group ranks, so each chip holds
// dp / shard_group times the shard of plain ZeRO; each shard's copies all-reduce their
// gradients, which the link carries on top of the shard group's reduce-scatter and gather.
// shard_group = dp is plain ZeRO; a group that does not divide dp, or one without a ZeRO
// stage, is an error with its reason.
TEST(TrainStep, HybridShardingHoldsAShardPerGroupAndAllReducesItsCopies) {
  Diagnostics d;
  const auto arch = spec::LoadModelByName("llama-3-8b", d);
  ASSERT_TRUE(arch) << d.Render();
  for (int zero : {1, 3}) {
    TrainSettings s = Llama8bSettings(64, zero);
    const Simulator sim = Make("h100-sxm", "dgx-h100", "llama-3-8b", 64);
    const graph::Parallelism p{1, 1, 64, 1, 1, false};
    const TrainResult full = sim.Run(p, s);
    s.shard_group = 64;
    const TrainResult same = sim.Run(p, s);
    s.shard_group = 8;
    const TrainResult hybrid = sim.Run(p, s);
    ASSERT_TRUE(full.ok && same.ok && hybrid.ok) << full.reason << same.reason << hybrid.reason;
    EXPECT_EQ(same.step.total.value(), full.step.total.value());
    EXPECT_EQ(same.memory[0].total.value(), full.memory[0].total.value());
    const memory::StageMemory &f = full.memory[0], &h = hybrid.memory[0];
    EXPECT_NEAR(h.optimizer.value(), 8 * f.optimizer.value(), 1e-9 * h.optimizer.value());
    if (zero == 3) {
      EXPECT_NEAR(h.weights.value(), 8 * f.weights.value(), 1e-9 * h.weights.value());
    } else {
      EXPECT_EQ(h.weights.value(), f.weights.value());
    }
    EXPECT_EQ(hybrid.step.compute.value(), full.step.compute.value());
    if (zero == 1) {
      // Per parameter: the gradient reduce-scattered (2 bytes) and the weight gathered (2)
      // over the group of 8, 7/8 of each sent; then the 8 copies of each 1/8 gradient shard
      // all-reduce it, 2 · 7/8 of it sent.
      const double params = model::Count(*arch).total_params;
      EXPECT_NEAR(hybrid.link_sent.value(), params * (4.0 * 7 / 8 + 2.0 / 8 * 2 * 7 / 8), 1e-9 * params);
    }
  }
  // A group of one: FSDP keeps whole weights, and every gradient is all-reduced over all 64
  // copies, the bytes plain data parallelism sends.
  {
    const Simulator sim = Make("h100-sxm", "dgx-h100", "llama-3-8b", 64);
    TrainSettings z0 = Llama8bSettings(64, 0), z3 = Llama8bSettings(64, 3);
    z3.shard_group = 1;
    const TrainResult plain = sim.Run({1, 1, 64, 1, 1, false}, z0), one = sim.Run({1, 1, 64, 1, 1, false}, z3);
    ASSERT_TRUE(plain.ok && one.ok) << plain.reason << one.reason;
    EXPECT_NEAR(one.link_sent.value(), plain.link_sent.value(), 1e-9 * plain.link_sent.value());
    EXPECT_GT(one.step.fsdp_comm.value() + one.step.dp_comm.value(), 0);
  }
  TrainSettings s = Llama8bSettings(64, 1);
  const Simulator sim = Make("h100-sxm", "dgx-h100", "llama-3-8b", 64);
  const Simulator moe = Make("h100-sxm", "dgx-h100", "mixtral-8x7b", 64);
  s.shard_group = 8;
  const TrainResult experts = moe.Run({1, 1, 64, 1, 1, false}, s);
  EXPECT_FALSE(experts.ok);
  EXPECT_NE(experts.reason.find("MoE model is not modelled"), std::string::npos) << experts.reason;
  s.shard_group = 24;
  const TrainResult bad = sim.Run({1, 1, 64, 1, 1, false}, s);
  EXPECT_FALSE(bad.ok);
  EXPECT_NE(bad.reason.find("shard_group 24 does not divide dp = 64"), std::string::npos) << bad.reason;
  s.shard_group = 8;
  s.zero_stage = 0;
  const TrainResult none = sim.Run({1, 1, 64, 1, 1, false}, s);
  EXPECT_FALSE(none.ok);
  EXPECT_NE(none.reason.find("needs zero_stage"), std::string::npos) << none.reason;
}

// FSDP buffers: a block at a time with the next prefetched (PyTorch FSDP units) holds two
// layers' weights gathered; each weight at its own matmul (XLA's SPMD partitioner) holds two
// of the largest weight of a layer — Llama 3 8B's fc1 (gate and up, 4096 x 2 x 14336). The
// step's time is unchanged.
TEST(TrainStep, FsdpGatherPerWeightHoldsTheLargestWeightNotTheLayer) {
  Diagnostics d;
  const auto arch = spec::LoadModelByName("llama-3-8b", d);
  ASSERT_TRUE(arch) << d.Render();
  const Simulator sim = Make("h100-sxm", "dgx-h100", "llama-3-8b", 64);
  TrainSettings s = Llama8bSettings(64, 3);
  const graph::Parallelism p{1, 1, 64, 1, 1, false};
  const TrainResult block = sim.Run(p, s);
  s.fsdp_gather_per_weight = true;
  const TrainResult weight = sim.Run(p, s);
  ASSERT_TRUE(block.ok && weight.ok) << block.reason << weight.reason;
  const double layer = model::Count(*arch).total_params / arch->layers;  // the stage's weights per layer
  EXPECT_NEAR(block.memory[0].buffers.value(), 2 * 2 * layer, 1e-6 * layer);
  EXPECT_DOUBLE_EQ(weight.memory[0].buffers.value(), 2 * 2 * (4096.0 * 2 * 14336));
  EXPECT_EQ(weight.step.total.value(), block.step.total.value());
}

// An overlapped data-parallel collective holds collective_ctas of the GPU's SMs: the hidden
// part of it costs the compute beside it 1 − 1/slowdown of its time (ops/calibration.h,
// measured on an H100), charged as the collective's exposed time. Exposed time is then
// base + (collective − base) · cost, base being what the compute does not hide at all.
TEST(TrainStep, OverlappedCollectivesSlowTheComputeBesideThemOnGpus) {
  TrainSettings s = Llama8bSettings(64, 1);
  const Simulator sim = Make("h100-sxm", "dgx-h100", "llama-3-8b", 64);
  const graph::Parallelism p{1, 1, 64, 1, 1, false};
  auto run = [&](int ctas) {
    s.collective_ctas = ctas;
    const TrainResult r = sim.Run(p, s);
    EXPECT_TRUE(r.ok) << r.reason;
    return r;
  };
  const TrainResult r8 = run(8), r32 = run(32);
  const double cost8 = 1 - 1 / ops::ComputeSlowdownBesideCollective(8.0 / 132, DType::kBf16);
  const double cost32 = 1 - 1 / ops::ComputeSlowdownBesideCollective(32.0 / 132, DType::kBf16);
  ASSERT_GT(cost32, cost8);
  const double grad = r8.stages[0].dp_grad.value();
  EXPECT_EQ(grad, r32.stages[0].dp_grad.value());  // the collective itself is the same
  const double base8 = (r8.stages[0].dp_grad_exposed.value() - grad * cost8) / (1 - cost8);
  const double base32 = (r32.stages[0].dp_grad_exposed.value() - grad * cost32) / (1 - cost32);
  EXPECT_NEAR(base8, base32, 1e-12);
  EXPECT_GT(grad - base8, 0.5 * grad);  // mostly hidden, so the cost matters
  EXPECT_GT(r32.step.total.value(), r8.step.total.value());
  EXPECT_EQ(r32.step.compute.value(), r8.step.compute.value());
  // The breakdown names that cost: all of what the CTAs changed in the exposed DP time.
  EXPECT_GT(r8.step.beside_collectives.value(), 0.0);
  EXPECT_NEAR(r32.step.dp_comm.value() - r8.step.dp_comm.value(),
              r32.step.beside_collectives.value() - r8.step.beside_collectives.value(), 1e-12);

  // FSDP: the per-layer gathers and reduce-scatters hidden behind the layers cost the same way.
  s.zero_stage = 3;
  const TrainResult f8 = run(8), f32 = run(32);
  EXPECT_GT(f32.step.fsdp_comm.value(), f8.step.fsdp_comm.value());
  EXPECT_EQ(f32.step.compute.value(), f8.step.compute.value());
  EXPECT_NEAR(f32.step.fsdp_comm.value() - f8.step.fsdp_comm.value(),
              f32.step.beside_collectives.value() - f8.step.beside_collectives.value(), 1e-9);

  // A chip whose collectives run on DMA engines beside its cores is not charged.
  const Simulator trn = Make("trainium2", "trn2-two-sites", "llama-3-8b", 64);
  s.collective_ctas = 4;
  const TrainResult t4 = trn.Run(p, s);
  s.collective_ctas = 32;
  const TrainResult t32 = trn.Run(p, s);
  ASSERT_TRUE(t4.ok && t32.ok) << t4.reason << t32.reason;
  EXPECT_EQ(t4.step.total.value(), t32.step.total.value());
  EXPECT_EQ(t32.step.beside_collectives.value(), 0.0);

  // A collective on every SM leaves none to the compute.
  s.collective_ctas = 132;
  const TrainResult all = sim.Run(p, s);
  EXPECT_FALSE(all.ok);
  EXPECT_NE(all.reason.find("collective_ctas = 132"), std::string::npos) << all.reason;
}

// torch.autocast over fp32 parameters: each micro-batch's forward reads every matmul weight
// in fp32 and writes it in bf16 (6 bytes a weight; the input embedding is gathered, not
// cast), full recompute casts the layers' weights once more, and the backward writes every
// gradient into .grad in fp32 (reading it back from the second micro-batch on). Only
// time is added, and the optimizer is in the per-operator activity either way. In memory
// the fp32 weights replace the 16-bit ones and the optimizer's master copy.
TEST(TrainStep, AutocastCastsEveryMatmulWeightPerMicrobatchAndKeepsNoMasterCopy) {
  Diagnostics d;
  const auto arch = spec::LoadModelByName("llama-3-8b", d);
  ASSERT_TRUE(arch) << d.Render();
  TrainSettings s = Llama8bSettings(2, 0);  // two micro-batches
  const Simulator sim = Make("h100-sxm", "dgx-h100", "llama-3-8b", 1);
  const graph::Parallelism p{1, 1, 1, 1, 1, false};
  const TrainResult plain = sim.Run(p, s, true);
  s.autocast_fp32_params = true;
  const TrainResult amp = sim.Run(p, s, true);
  ASSERT_TRUE(plain.ok && amp.ok) << plain.reason << amp.reason;
  const double weights = model::Count(*arch).total_params - double(arch->vocab) * arch->hidden;  // untied
  EXPECT_NEAR(ActivityBytes(amp, "weight casts (autocast, forward)"), 2 * 6 * weights, 1e-3 * 12 * weights);
  // Gradients: bf16 read + fp32 written for both micro-batches, the fp32 .grad read for the second.
  EXPECT_NEAR(ActivityBytes(amp, "gradient casts into .grad (autocast, backward)"), (2 * 6 + 4) * weights,
              1e-3 * 16 * weights);
  EXPECT_LT(ActivityBytes(amp, "weight casts (autocast, recompute)"), 0);  // no recompute, no entry
  EXPECT_LT(ActivityBytes(plain, "weight casts (autocast, forward)"), 0);
  EXPECT_GT(ActivityBytes(plain, "optimizer step (Adam)"), 0);
  EXPECT_GT(amp.step.compute.value(), plain.step.compute.value());
  // Memory: the fp32 weights are what Adam updates (4 bytes each, beside its two fp32
  // moments), not a master copy next to 16-bit weights (2 + 12 bytes).
  const double all = model::Count(*arch).total_params;
  EXPECT_NEAR(amp.memory[0].weights.value(), 4 * all, 1e-9 * all);
  EXPECT_NEAR(amp.memory[0].optimizer.value(), 8 * all, 1e-9 * all);
  EXPECT_NEAR(amp.memory[0].gradients.value(), 4 * all, 1e-9 * all);
  EXPECT_NEAR(plain.memory[0].weights.value(), 2 * all, 1e-9 * all);
  EXPECT_NEAR(plain.memory[0].optimizer.value(), 12 * all, 1e-9 * all);
  s.recompute = graph::Recompute::kFull;
  const TrainResult full = sim.Run(p, s, true);
  ASSERT_TRUE(full.ok) << full.reason;
  const double layers = weights - double(arch->vocab) * arch->hidden;  // the LM head is not recomputed
  EXPECT_NEAR(ActivityBytes(full, "weight casts (autocast, recompute)"), 2 * 6 * layers, 1e-3 * 12 * layers);
}

// Forward-only quantization of named linears (train.forward_only_quant, MaxText's tff_quant):
// their backward GEMMs run in bf16, so the step lands between all-fp8 and all-bf16 and the
// forward is the all-fp8 one; a name that is not a linear kind, and the setting without a
// quantized precision, are refused with the reason.
TEST(TrainStep, ForwardOnlyQuantRunsTheNamedLinearsBackwardIn16Bits) {
  const Simulator sim = Make("h100-sxm", "dgx-h100", "llama-3-8b", 8);
  const graph::Parallelism dp8{1, 1, 8, 1, 1, false};
  TrainSettings s = Llama8bSettings(16, 1);
  s.precision = DType::kFp8;
  const TrainResult fp8 = sim.Run(dp8, s);
  s.forward_only_quant = {"proj", "fc1", "fc2"};
  const TrainResult tff = sim.Run(dp8, s);
  s.forward_only_quant.clear();
  s.precision = DType::kBf16;
  const TrainResult bf16 = sim.Run(dp8, s);
  ASSERT_TRUE(fp8.ok && tff.ok && bf16.ok) << fp8.reason << tff.reason << bf16.reason;
  EXPECT_GT(tff.step.compute.value(), fp8.step.compute.value());
  EXPECT_LT(tff.step.compute.value(), bf16.step.compute.value());
  EXPECT_NEAR(tff.stages[0].fwd.value(), fp8.stages[0].fwd.value(), 1e-12);
  s.forward_only_quant = {"proj", "mlp"};
  s.precision = DType::kFp8;
  const TrainResult bad = sim.Run(dp8, s);
  EXPECT_FALSE(bad.ok);
  EXPECT_NE(bad.reason.find("'mlp' is unknown"), std::string::npos) << bad.reason;
  s.forward_only_quant = {"fc1"};
  s.precision = DType::kBf16;
  const TrainResult wide = sim.Run(dp8, s);
  EXPECT_FALSE(wide.ok);
  EXPECT_NE(wide.reason.find("needs a quantized precision (fp8, int8 or fp4; not bf16): set one"), std::string::npos)
      << wide.reason;
}

// PyTorch FSDP (llm-foundry's sharding) casts each unit's unsharded gradient to the reduce
// dtype and divides it by the pre-divide factor before the reduce-scatter, on every
// micro-batch: with fp32 reduction, 2 + 4 bytes for the cast and 4 + 4 for the division
// per parameter, 8 bytes when the compute dtype is already the reduce dtype (no cast), and
// nothing without sharding. The step grows by that traffic's time and nothing else.
TEST(TrainStep, PytorchFsdpCastsAndPreDividesTheUnshardedGradientEveryMicrobatch) {
  Diagnostics d;
  const auto arch = spec::LoadModelByName("llama-3-8b", d);
  ASSERT_TRUE(arch) << d.Render();
  const Simulator sim = Make("h100-sxm", "dgx-h100", "llama-3-8b", 8);
  const graph::Parallelism dp8{1, 1, 8, 1, 1, false};
  TrainSettings s = Llama8bSettings(16, 3);  // two micro-batches per rank
  s.grad_dtype = DType::kFp32;
  const TrainResult plain = sim.Run(dp8, s, true);
  s.pytorch_fsdp = true;
  const TrainResult fsdp = sim.Run(dp8, s, true);
  ASSERT_TRUE(plain.ok && fsdp.ok) << plain.reason << fsdp.reason;
  const std::string name = "gradient cast and pre-divide before reduce-scatter (PyTorch FSDP)";
  const double params = model::Count(*arch).total_params;
  EXPECT_NEAR(ActivityBytes(fsdp, name), 2 * (2 + 4 + 4 + 4) * params, 1e-3 * 28 * params);
  EXPECT_LT(ActivityBytes(plain, name), 0);
  EXPECT_GT(fsdp.step.compute.value(), plain.step.compute.value());
  EXPECT_NEAR(fsdp.step.total.value() - plain.step.total.value(),
              fsdp.step.compute.value() - plain.step.compute.value(), 1e-9);
  // Reducing in the compute dtype: no cast, the division alone.
  s.grad_dtype = DType::kBf16;
  const TrainResult pure = sim.Run(dp8, s, true);
  ASSERT_TRUE(pure.ok) << pure.reason;
  EXPECT_NEAR(ActivityBytes(pure, name), 2 * (2 + 2) * params, 1e-3 * 8 * params);
  // Under autocast over fp32 parameters the gradients come out fp32: the division alone, in
  // fp32.
  s.grad_dtype = DType::kFp32;
  s.autocast_fp32_params = true;
  const TrainResult amp = sim.Run(dp8, s, true);
  ASSERT_TRUE(amp.ok) << amp.reason;
  EXPECT_NEAR(ActivityBytes(amp, name), 2 * (4 + 4) * params, 1e-3 * 16 * params);
  s.autocast_fp32_params = false;
  // One rank holds everything: no reduce-scatter, nothing to prepare.
  const Simulator one = Make("h100-sxm", "dgx-h100", "llama-3-8b", 1);
  s.global_batch = 2;
  const TrainResult single = one.Run(graph::Parallelism{1, 1, 1, 1, 1, false}, s, true);
  ASSERT_TRUE(single.ok) << single.reason;
  EXPECT_LT(ActivityBytes(single, name), 0);
}

// Activation offloading (Megatron-Core cpu_offloading_num_layers): the offloaded layers'
// activations leave the chip but for one layer in transit, their copies run beside the
// compute over the host link, and only what outlasts a pass is exposed. Llama 3 70B on 64
// GB200s as Megatron-Bridge runs it (FSDP, 40 of 80 layers offloaded over NVLink-C2C): the
// copies hide and the step is unchanged; all 32 layers of Llama 3 8B over an H100's PCIe 5.0
// outlast the forward and the step grows by exactly the exposed part. A chip without a host
// link, and more layers than a stage has, are values with the reason.
TEST(TrainStep, ActivationOffloadFreesChipMemoryAndHidesBehindTheCompute) {
  static const Simulator gb200 = Make("gb200", "gb200-nvl72", "llama-3-70b", 64);
  TrainSettings s;
  s.seq_len = 8192;
  s.micro_batch = 2;
  s.global_batch = 128;
  s.precision = DType::kFp8;
  s.zero_stage = 3;
  const graph::Parallelism fsdp{1, 1, 64, 1, 1, false};
  const TrainResult kept = gb200.Run(fsdp, s);
  s.offload_layers = 40;
  const TrainResult offloaded = gb200.Run(fsdp, s);
  ASSERT_TRUE(kept.ok && offloaded.ok) << kept.reason << offloaded.reason;
  const memory::StageMemory &k = kept.memory[0], &o = offloaded.memory[0];
  EXPECT_EQ(k.offloaded.value(), 0);
  // One layer's activations are k.activations less what stays (the embedding's bf16 output
  // and the head's fp32 logits) over 80 layers; 40 leave and one of them is in transit.
  const double stays = 16384.0 * 8192 * 2 + 16384.0 * 128256 * 4;
  const double mean_layer = (k.activations.value() - stays) / 80;
  EXPECT_NEAR(o.offloaded.value(), 40 * mean_layer, 1e-6 * o.offloaded.value());
  EXPECT_NEAR(k.activations.value() - o.activations.value(), 39 * mean_layer, 1e-6 * k.activations.value());
  EXPECT_LT(o.total.value(), k.total.value());
  EXPECT_EQ(offloaded.step.offload.value(), 0);
  EXPECT_DOUBLE_EQ(offloaded.step.total.value(), kept.step.total.value());

  TrainSettings e = Llama8bSettings(8, 1);
  const Simulator h100 = Make("h100-sxm", "dgx-h100", "llama-3-8b", 8);
  const graph::Parallelism dp8{1, 1, 8, 1, 1, false};
  const TrainResult plain = h100.Run(dp8, e);
  e.offload_layers = 32;
  const TrainResult pcie = h100.Run(dp8, e);
  ASSERT_TRUE(plain.ok && pcie.ok) << plain.reason << pcie.reason;
  const double copy = pcie.memory[0].offloaded.value() / 64e9;  // PCIe 5.0 x16, one direction
  EXPECT_GT(pcie.step.offload.value(), 0);
  EXPECT_LT(pcie.step.offload.value(), 2 * copy);
  EXPECT_NEAR(pcie.step.total.value() - plain.step.total.value(), pcie.step.offload.value(), 1e-9);

  e.offload_layers = 33;
  const TrainResult too_many = h100.Run(dp8, e);
  EXPECT_FALSE(too_many.ok);
  EXPECT_NE(too_many.reason.find("offload_layers 33 is more than the 32 layers"), std::string::npos) << too_many.reason;
  const Simulator mi300x = Make("mi300x", "mi300x-platform", "llama-3-8b", 8);
  e.offload_layers = 4;
  const TrainResult no_link = mi300x.Run(dp8, e);
  EXPECT_FALSE(no_link.ok);
  EXPECT_NE(no_link.reason.find("set host_link.bandwidth"), std::string::npos) << no_link.reason;
}

// Llama 2 70B in fp8 on TP 4 with SP over DP 2, 4096 tokens a sequence, 4 micro-batches of
// one: the LoRA tests' run.
TrainSettings Llama70bFp8Tp4() {
  TrainSettings s;
  s.seq_len = 4096;
  s.micro_batch = 1;
  s.global_batch = 8;
  s.precision = DType::kFp8;
  return s;
}

TEST(TrainStep, LoraIsFasterAndSavesTheFrozenWeightsStates) {
  static const Simulator sim = Make("h100-sxm", "dgx-h100", "llama-2-70b", 64);
  graph::Parallelism p{4, 1, 2, 1, 1, true};
  TrainSettings full = Llama70bFp8Tp4();
  full.allocator_overhead = 0;
  TrainSettings lora = full;
  lora.lora_rank = 16;
  lora.lora_targets = {"qkv", "proj", "fc1", "fc2"};  // every linear's input is kept, as without LoRA
  // The row-parallel adapters return by all-to-all, as NeMo's a2a_experimental does: with their
  // default all-gathers (T × h each way, per adapter) four adapters under TP 4 cost this short
  // run about what the frozen weights' gradients save.
  lora.lora_all_to_all = true;
  const TrainResult rf = sim.Run(p, full), rl = sim.Run(p, lora);
  ASSERT_TRUE(rf.ok && rl.ok) << rf.reason << rl.reason;
  EXPECT_LT(rl.step.total, rf.step.total);
  EXPECT_GT(rl.step.total, rf.step.total * 0.6);  // forward + dgrad still run: not below 2/3 of compute
  EXPECT_LT(rl.model_flops_per_token, rf.model_flops_per_token);

  const memory::StageMemory &mf = rf.memory[0], &ml = rl.memory[0];
  EXPECT_LT(ml.total, mf.total);
  const graph::StepGraph g = graph::BuildStepGraph(sim.arch(), p, StepOptionsOf(full));
  const double shard = double(p.dp) * p.cp;  // zero_stage 1: optimizer states sharded over DP
  const double frozen = g.stages[0].params + g.stages[0].expert_params;
  const double expected = frozen * BytesPerElement(full.grad_dtype) + frozen / shard * memory::kAdamStateBytesPerParam;
  const double saved = (mf.total - ml.total).value();
  EXPECT_NEAR(saved, expected, 0.02 * expected) << "saved " << saved << " expected " << expected;

  // Only attention adapters: the frozen MLP's inputs are no longer stored either.
  lora.lora_targets = {"qkv", "proj"};
  const TrainResult ra = sim.Run(p, lora);
  ASSERT_TRUE(ra.ok) << ra.reason;
  EXPECT_LT(ra.memory[0].activations, ml.activations);
  lora.lora_targets = {"attention"};
  EXPECT_FALSE(sim.Run(p, lora).ok);
}

// Copies around a fused-attention kernel (TrainSettings::attention_layout_copies) are memory
// time: each way, one read and one write of q, k, v and the output at the HBM rate.
TEST(TrainStep, AttentionLayoutCopiesCostMemoryTime) {
  static const Simulator sim = Make("h100-sxm", "dgx-h100", "llama-3-8b", 8);
  graph::Parallelism p{1, 1, 8, 1, 1, false};
  TrainSettings s;
  s.seq_len = 4096;
  s.micro_batch = 1;
  s.global_batch = 8;
  s.attention_kernel = ops::AttentionKernel::kFlash2;
  TrainSettings c = s;
  c.attention_layout_copies = true;
  const TrainResult r = sim.Run(p, s), rc = sim.Run(p, c);
  ASSERT_TRUE(r.ok && rc.ok) << r.reason << rc.reason;
  const model::Architecture& a = sim.arch();
  const double width = double(a.heads) * a.head_dim * 2 + double(a.kv_heads) * a.head_dim * 2;
  const double bytes = 2 * 2 * 4096.0 * width * 2 * double(a.layers);  // 2 passes, read + write, bf16
  const double added = (rc.step.compute - r.step.compute).value();
  // Memory-bound copies: at most the HBM peak, at least a quarter of it.
  EXPECT_GT(added, bytes / sim.op_model().chip().hbm.bandwidth.value());
  EXPECT_LT(added, 4 * bytes / sim.op_model().chip().hbm.bandwidth.value());
  c.flash_attention = false;
  const TrainResult bad = sim.Run(p, c);
  EXPECT_FALSE(bad.ok);
  EXPECT_NE(bad.reason.find("drop attention_layout_copies"), std::string::npos) << bad.reason;
}

// Outside userbuffers, Transformer Engine's TP all-gathers of a dense block move the fp8 copy
// (the norm output before the column-parallel GEMM, the output gradient, the input re-gathered
// for the weight gradient): per block three gathers at half the bf16 bytes. Under LoRA the
// forward gather moves the 16-bit norm output the adapters also read.
TEST(TrainStep, Fp8TensorParallelGathersMoveOneBytePerElement) {
  static const Simulator sim = Make("h100-sxm", "dgx-h100", "llama-2-70b", 64);
  graph::Parallelism p{4, 1, 2, 1, 1, true};
  TrainSettings fp8 = Llama70bFp8Tp4(), bf16 = fp8;
  bf16.precision = DType::kBf16;
  const TrainResult r8 = sim.Run(p, fp8), r16 = sim.Run(p, bf16);
  ASSERT_TRUE(r8.ok && r16.ok) << r8.reason << r16.reason;
  auto group = comm::MakeGroup(sim.network(), 1, 4);
  ASSERT_TRUE(group.ok());
  const double T = 4096, h = double(sim.arch().hidden);
  auto gather = [&](double bytes) {
    return comm::EstimateCollective(sim.network(), group.value(), comm::Collective::kAllGather, Bytes(bytes)).time;
  };
  const double per_block = (gather(T * h * 2) - gather(T * h)).value();
  const double blocks = 2.0 * double(sim.arch().layers) * double(r8.microbatches);
  EXPECT_NEAR((r16.step.tp_comm - r8.step.tp_comm).value(), 3 * per_block * blocks, 1e-6 * r16.step.tp_comm.value());
  // LoRA (frozen base: no weight-gradient re-gather): the forward gather in 16 bits, the
  // output gradient's in fp8; bf16 runs gather both in 16 bits.
  TrainSettings lora8 = fp8, lora16 = bf16;
  lora8.lora_rank = lora16.lora_rank = 16;
  const TrainResult l8 = sim.Run(p, lora8), l16 = sim.Run(p, lora16);
  ASSERT_TRUE(l8.ok && l16.ok) << l8.reason << l16.reason;
  EXPECT_NEAR((l16.step.tp_comm - l8.step.tp_comm).value(), per_block * blocks, 1e-6 * l16.step.tp_comm.value());
}

// The adapters' own kernels and collectives (graph::Lora): dropout on their inputs costs
// compute; under TE userbuffers the adapters' gathers and all-to-alls stay exposed, so their
// TP time exceeds what the base linears' overlapped collectives leave.
TEST(TrainStep, LoraDropoutAndAdapterCollectivesCostTime) {
  static const Simulator sim = Make("h100-sxm", "dgx-h100", "llama-2-70b", 64);
  graph::Parallelism p{4, 1, 2, 1, 1, true};
  TrainSettings s = Llama70bFp8Tp4();
  s.lora_rank = 16;
  s.overlap_tp_comm = true;
  s.lora_all_to_all = true;  // as the MLPerf configs run it (LORA_A2A=1)
  TrainSettings drop = s;
  drop.lora_dropout = 0.1;
  const TrainResult r = sim.Run(p, s), rd = sim.Run(p, drop);
  ASSERT_TRUE(r.ok && rd.ok) << r.reason << rd.reason;
  EXPECT_GT(rd.step.compute, r.step.compute);
  EXPECT_DOUBLE_EQ(rd.step.tp_comm.value(), r.step.tp_comm.value());  // dropout is compute only
  // Every layer's adapter collectives are exposed whole under userbuffers. Dropping the proj
  // adapter removes exactly its two all-to-alls of T × h/4 per layer from the exposed TP
  // time (the base blocks' overlap does not depend on which linears carry adapters); the
  // qkv adapter's gather of its T × h input and reduce-scatter of the gradient stay.
  TrainSettings qkv_only = s;
  qkv_only.lora_targets = {"qkv"};
  const TrainResult rq = sim.Run(p, qkv_only);
  ASSERT_TRUE(rq.ok) << rq.reason;
  auto group = comm::MakeGroup(sim.network(), 1, 4);
  ASSERT_TRUE(group.ok());
  // Per step: every layer of each of the 4 micro-batches (global batch 8 over dp 2).
  const double T = 4096, h = double(sim.arch().hidden), layers = double(sim.arch().layers) * 4;
  ASSERT_EQ(r.microbatches, 4);
  const Seconds a2a =
      comm::EstimateCollective(sim.network(), group.value(), comm::Collective::kAllToAll, Bytes(T * h / 4 * 2)).time;
  ASSERT_GT(a2a.value(), 0);
  EXPECT_NEAR((r.step.tp_comm - rq.step.tp_comm).value(), 2 * a2a.value() * layers, 1e-6 * r.step.tp_comm.value());
  // A qkv adapter that gathers its own input adds exactly that gather and the gradient's
  // reduce-scatter; by default it reads the base's gathered input and adds none.
  TrainSettings own = qkv_only;
  own.lora_gathered_input = false;
  const TrainResult ro = sim.Run(p, own);
  ASSERT_TRUE(ro.ok) << ro.reason;
  const Seconds qkv_adapter =
      comm::EstimateCollective(sim.network(), group.value(), comm::Collective::kAllGather, Bytes(T * h * 2)).time +
      comm::EstimateCollective(sim.network(), group.value(), comm::Collective::kReduceScatter, Bytes(T * h * 2)).time;
  EXPECT_NEAR((ro.step.tp_comm - rq.step.tp_comm).value(), qkv_adapter.value() * layers,
              1e-6 * ro.step.tp_comm.value());
  TrainSettings bad = s;
  bad.lora_dropout = 1.5;
  EXPECT_FALSE(sim.Run(p, bad).ok);
  bad.lora_dropout = 0.1;
  bad.lora_rank = 0;
  EXPECT_FALSE(sim.Run(p, bad).ok);
}

}  // namespace
}  // namespace pf::train

// fp8 weights (TE fp8_model_init / Megatron --fp8-param-gather): a byte per parameter held
// and gathered instead of two; the compute is the same, LoRA adapters stay 16-bit, and it
// needs an fp8 recipe.
TEST(TrainStep, Fp8ParamsHoldAndGatherTheWeightsInOneByte) {
  static const Simulator sim = Make("h100-sxm", "dgx-h100", "llama-3-8b", 64);
  const graph::Parallelism p{1, 1, 64, 1, 1, false};
  TrainSettings s = Llama8bSettings(64, 1);
  s.precision = DType::kFp8;
  s.allocator_overhead = 0;
  TrainSettings f = s;
  f.fp8_params = true;
  const TrainResult r16 = sim.Run(p, s), r8 = sim.Run(p, f);
  ASSERT_TRUE(r16.ok && r8.ok) << r16.reason << r8.reason;
  EXPECT_DOUBLE_EQ(r8.memory[0].weights.value(), 0.5 * r16.memory[0].weights.value());
  EXPECT_EQ(r8.memory[0].activations.value(), r16.memory[0].activations.value());
  EXPECT_LT(r8.stages[0].dp_gather, r16.stages[0].dp_gather);
  EXPECT_GT(r8.stages[0].dp_gather, r16.stages[0].dp_gather * 0.4);  // half the bytes, same latency
  EXPECT_EQ(r8.stages[0].dp_grad.value(), r16.stages[0].dp_grad.value());
  EXPECT_EQ(r8.step.compute.value(), r16.step.compute.value());
  EXPECT_LT(r8.stages[0].optimizer, r16.stages[0].optimizer);  // writes fp8 weights

  // FSDP gathers the weights per layer, twice per micro-batch: in fp8 they move half the bytes.
  TrainSettings z = s, z8 = f;
  z.zero_stage = z8.zero_stage = 3;
  z.overlap_dp_comm = z8.overlap_dp_comm = false;
  const TrainResult rz = sim.Run(p, z), rz8 = sim.Run(p, z8);
  ASSERT_TRUE(rz.ok && rz8.ok) << rz.reason << rz8.reason;
  EXPECT_LT(rz8.link_sent, rz.link_sent);
  EXPECT_LT(rz8.step.fsdp_comm, rz.step.fsdp_comm);

  // LoRA: the frozen base weights in fp8, the adapters' 16-bit weights gathered as before.
  TrainSettings lora = f;
  lora.lora_rank = 16;
  TrainSettings lora16 = lora;
  lora16.fp8_params = false;
  const TrainResult rl = sim.Run(p, lora), rl16 = sim.Run(p, lora16);
  ASSERT_TRUE(rl.ok && rl16.ok) << rl.reason << rl16.reason;
  EXPECT_EQ(rl.stages[0].dp_gather.value(), rl16.stages[0].dp_gather.value());
  EXPECT_LT(rl.memory[0].weights.value(), 0.51 * rl16.memory[0].weights.value());
  EXPECT_GT(rl.memory[0].weights.value(), 0.5 * rl16.memory[0].weights.value());

  f.precision = DType::kBf16;
  const TrainResult bad = sim.Run(p, f);
  EXPECT_FALSE(bad.ok);
  EXPECT_NE(bad.reason.find("precision: fp8"), std::string::npos) << bad.reason;
}

// Data-parallel buckets: each is its own collective call and pays the collective's latency,
// so smaller buckets take longer; 0 is Megatron-Core's default, max(40 M, 1 M × dp); without
// overlap the gradients go in one call whatever the bucket.
TEST(TrainStep, EachDataParallelBucketIsItsOwnCollectiveCall) {
  static const Simulator sim = Make("h100-sxm", "dgx-h100", "llama-3-8b", 256);
  const graph::Parallelism p{1, 1, 256, 1, 1, false};
  TrainSettings s = Llama8bSettings(256, 1);
  auto grad = [&](double bucket, bool overlap) {
    TrainSettings x = s;
    x.dp_bucket_params = bucket;
    x.overlap_dp_comm = overlap;
    const TrainResult r = sim.Run(p, x);
    EXPECT_TRUE(r.ok) << r.reason;
    return std::pair{r.stages[0].dp_grad.value(), r.stages[0].dp_gather.value()};
  };
  const auto one = grad(1e12, true), many = grad(1e6, true), dflt = grad(0, true), rule = grad(256e6, true);
  EXPECT_GT(many.first, one.first);
  EXPECT_GT(many.second, one.second);
  EXPECT_EQ(dflt, rule);  // 8 B parameters in 256 M-parameter buckets
  EXPECT_GT(dflt.first, one.first);
  EXPECT_EQ(grad(1e6, false), grad(1e12, false));  // no overlap: one call
  EXPECT_EQ(grad(1e6, false).first, one.first);
}

// Multi-token prediction on the last stage: the step takes one more layer and one more pass of
// the head longer, and the stage holds that layer's activations and a second set of logits.
TEST(TrainStep, MultiTokenPredictionRunsALayerAndTheHeadAgain) {
  static const Simulator sim = Make("h100-sxm", "dgx-h100", "llama-3-8b", 8);
  const graph::Parallelism p{1, 1, 8, 1, 1, false};
  TrainSettings s = Llama8bSettings(8, 1);
  s.allocator_overhead = 0;
  const TrainResult base = sim.Run(p, s);
  s.mtp_layers = 1;
  const TrainResult mtp = sim.Run(p, s);
  ASSERT_TRUE(base.ok && mtp.ok) << base.reason << mtp.reason;
  const double layer = base.step.compute.value() / 32;  // at least one of its 32 layers more
  EXPECT_GT(mtp.step.compute.value(), base.step.compute.value() + layer);
  EXPECT_LT(mtp.step.compute.value(), base.step.compute.value() + 3 * layer);
  const double logits = 4096.0 * 128256 * 4;
  EXPECT_GT(mtp.memory[0].activations.value(), base.memory[0].activations.value() + logits);
  EXPECT_GT(mtp.memory[0].weights.value(), base.memory[0].weights.value());
  EXPECT_EQ(mtp.model_flops_per_token.value(), base.model_flops_per_token.value());  // the model's, not the extra loss
  s.mtp_layers = -1;
  EXPECT_FALSE(sim.Run(p, s).ok);
}

}  // namespace
}  // namespace pf::train
