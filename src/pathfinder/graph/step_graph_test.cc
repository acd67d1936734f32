// The step graph: matmul FLOPs match the parameter count (forward 2·N·T, backward twice
// that), recompute adds exactly the forward again, the graph's size depends on distinct
// layer kinds and not on layers or chips, and stages split the layers as asked.
#include "pathfinder/graph/step_graph.h"

#include <gtest/gtest.h>

#include <set>
#include <string>
#include <tuple>
#include <vector>

namespace pf::graph {
namespace {

model::Architecture Gpt(int layers = 24) {
  model::Architecture a;
  a.name = "gpt-test";
  a.vocab = 51200;
  a.hidden = 2048;
  a.layers = layers;
  a.heads = 16;
  a.ffn_hidden = 8192;
  a.mlp = model::MlpKind::kGelu;
  a.norm = model::Norm::kLayerNorm;
  model::ResolveDefaults(a);
  return a;
}

// Gpt() with every layer MoE: 8 SwiGLU experts of `expert_ffn`, top-2.
model::Architecture GptMoe(int layers, int64_t expert_ffn) {
  model::Architecture a = Gpt(layers);
  a.mlp = model::MlpKind::kSwiGlu;
  a.moe.num_experts = 8;
  a.moe.top_k = 2;
  a.moe.expert_ffn_hidden = expert_ffn;
  return a;
}

double MatmulFlops(const LayerGraph& g, Pass pass, bool recompute) {
  double f = 0;
  for (const Op& op : g.ops)
    if (op.kind == OpKind::kMatmul && op.pass == pass && op.recompute == recompute) f += 2.0 * op.m * op.n * op.k * op.batch;
  return f;
}

TEST(StepGraph, ForwardMatmulsAreTwoFlopsPerWeightPerTokenAndBackwardTwiceThat) {
  const model::Architecture a = Gpt();
  StepOptions o;
  o.seq_len = 1024;
  o.micro_batch = 2;
  for (int tp : {1, 4}) {
    Parallelism p;
    p.tp = tp;
    const StepGraph g = BuildStepGraph(a, p, o);
    ASSERT_EQ(g.kinds.size(), 1u);
    const double h = a.hidden, tokens = 2048;
    const double weights = (4 * h * h + 2 * h * a.ffn_hidden) / tp;  // qkv + proj + fc1 + fc2
    EXPECT_DOUBLE_EQ(MatmulFlops(g.kinds[0], Pass::kForward, false), 2 * weights * tokens);
    EXPECT_DOUBLE_EQ(MatmulFlops(g.kinds[0], Pass::kBackward, false), 4 * weights * tokens);
  }
}

TEST(StepGraph, FullRecomputeRepeatsTheForwardSelectiveOnlyTheAttentionCore) {
  const model::Architecture a = Gpt();
  Parallelism p;
  p.tp = 2;
  p.sequence_parallel = true;
  StepOptions o;
  o.recompute = Recompute::kFull;
  const StepGraph full = BuildStepGraph(a, p, o);
  EXPECT_DOUBLE_EQ(MatmulFlops(full.kinds[0], Pass::kBackward, true), MatmulFlops(full.kinds[0], Pass::kForward, false));
  int fwd_comms = 0, recomputed_comms = 0;
  for (const CommOp& c : full.kinds[0].comms) {
    fwd_comms += c.pass == Pass::kForward;
    recomputed_comms += c.recompute;
  }
  EXPECT_EQ(fwd_comms, recomputed_comms);
  o.recompute = Recompute::kSelective;
  const StepGraph sel = BuildStepGraph(a, p, o);
  int recomputed = 0;
  for (const Op& op : sel.kinds[0].ops)
    if (op.recompute) {
      ++recomputed;
      EXPECT_EQ(op.kind, OpKind::kAttention);
    }
  EXPECT_EQ(recomputed, 1);
}

// Full recompute of some layers (Megatron's block method): each stage's first
// recompute_layers layers re-run their forward in backward, the others store their
// activations; the kinds split by it.
TEST(StepGraph, FullRecomputeOfSomeLayersRecomputesEachStagesFirstOnes) {
  const model::Architecture a = Gpt(30);
  Parallelism p;
  p.pp = 3;  // 10 layers a stage
  StepOptions o;
  o.recompute = Recompute::kFull;
  o.recompute_layers = 4;
  const StepGraph g = BuildStepGraph(a, p, o);
  ASSERT_EQ(g.kinds.size(), 2u);
  for (const LayerGraph& k : g.kinds) {
    EXPECT_EQ(MatmulFlops(k, Pass::kBackward, true), k.recomputed ? MatmulFlops(k, Pass::kForward, false) : 0.0)
        << k.what;
  }
  for (const StageGraph& s : g.stages) {
    for (size_t k = 0; k < g.kinds.size(); ++k) EXPECT_EQ(s.layers_of_kind[k], g.kinds[k].recomputed ? 4 : 6);
  }
  // 0 (the default) and a count of every layer are the same as recomputing all of them.
  o.recompute_layers = 0;
  EXPECT_EQ(BuildStepGraph(a, p, o).kinds.size(), 1u);
  o.recompute_layers = 10;
  const StepGraph all = BuildStepGraph(a, p, o);
  ASSERT_EQ(all.kinds.size(), 1u);
  EXPECT_TRUE(all.kinds[0].recomputed);
}

TEST(StepGraph, SizeDependsOnDistinctLayerKindsNotOnLayersOrChips) {
  StepOptions o;
  Parallelism small, big;
  big.dp = 1 << 20;
  const StepGraph a = BuildStepGraph(Gpt(24), small, o), b = BuildStepGraph(Gpt(96), big, o);
  EXPECT_EQ(a.kinds.size(), b.kinds.size());
  EXPECT_EQ(a.kinds[0].ops.size(), b.kinds[0].ops.size());
}

TEST(StepGraph, StagesSplitLayersEvenlyOrAsAsked) {
  const model::Architecture a = Gpt(30);
  Parallelism p;
  p.pp = 4;
  StepOptions o;
  const StepGraph even = BuildStepGraph(a, p, o);
  int total = 0;
  for (const StageGraph& s : even.stages) {
    total += s.layers;
    EXPECT_GE(s.layers, 7);
    EXPECT_LE(s.layers, 8);
  }
  EXPECT_EQ(total, 30);
  EXPECT_TRUE(even.stages.front().embedding);
  EXPECT_TRUE(even.stages.back().head);
  const StepGraph uneven = BuildStepGraph(a, p, o, 6, 6);
  EXPECT_EQ(uneven.stages[0].layers, 6);
  EXPECT_EQ(uneven.stages[3].layers, 6);
  EXPECT_EQ(uneven.stages[1].layers + uneven.stages[2].layers, 18);
}

// Megatron-Core's recompute_modules: selective recompute re-runs exactly the named modules'
// forward ops (and a recomputed MLP / MoE layer its forward collectives), nothing else.
TEST(StepGraph, SelectiveRecomputeReRunsTheNamedModules) {
  model::Architecture a = GptMoe(4, 1024);
  a.moe.num_shared_experts = 1;
  a.moe.shared_expert_ffn_hidden = 1024;
  Parallelism p;
  p.tp = 2;
  p.dp = 8;
  p.ep = 4;
  p.sequence_parallel = true;
  StepOptions o;
  o.seq_len = 1024;
  o.recompute = Recompute::kSelective;
  auto rerun = [&](const std::vector<std::string>& modules) {
    std::string bad;
    EXPECT_TRUE(ParseRecomputeModules(modules, &o.recompute_modules, &bad)) << bad;
    const StepGraph g = BuildStepGraph(a, p, o);
    std::multiset<std::string> names;
    for (const Op& op : g.kinds[0].ops)
      if (op.recompute) names.insert(op.name);
    for (const CommOp& c : g.kinds[0].comms)
      if (c.recompute) names.insert(std::string("comm ") + c.name);
    return names;
  };
  EXPECT_EQ(rerun({"core_attn"}), (std::multiset<std::string>{"attention core"}));
  EXPECT_EQ(rerun({}), (std::multiset<std::string>{}));
  EXPECT_EQ(rerun({"moe_act"}), (std::multiset<std::string>{"expert activation"}));
  EXPECT_EQ(rerun({"layernorm"}), (std::multiset<std::string>{"input norm", "post-attention norm"}));
  EXPECT_EQ(rerun({"shared_experts"}), (std::multiset<std::string>{"shared fc1", "shared activation", "shared fc2"}));
  const std::multiset<std::string> moe = rerun({"moe", "moe_act"});  // the activation re-runs once
  EXPECT_EQ(moe.count("expert activation"), 1u);
  EXPECT_EQ(moe.count("router"), 1u);
  EXPECT_EQ(moe.count("expert fc1"), 1u);
  EXPECT_EQ(moe.count("shared fc2"), 1u);
  EXPECT_EQ(moe.count("comm moe"), 2u);  // dispatch and combine
  EXPECT_EQ(moe.count("comm mlp"), 2u);  // the sequence-parallel gather and scatter around it
  EXPECT_EQ(moe.count("attention core"), 0u);
  EXPECT_TRUE(rerun({"mlp"}).empty());  // no dense MLP in an MoE layer
  EXPECT_TRUE(rerun({"mlp_fc1"}).empty());

  a.moe = model::Moe{};  // dense
  EXPECT_EQ(rerun({"mlp"}), (std::multiset<std::string>{"fc1", "activation", "fc2", "comm mlp", "comm mlp"}));
  // MaxText's save_dot_except_mlpwi: the first linear, its activation and the gather of its
  // input; not the second linear or its scatter. Nothing in an MoE layer.
  EXPECT_EQ(rerun({"mlp_fc1"}), (std::multiset<std::string>{"fc1", "activation", "comm mlp"}));
  EXPECT_EQ(rerun({"mlp", "mlp_fc1"}), rerun({"mlp"}));
  p.sequence_parallel = false;  // without SP, fc1's input is already on every chip
  EXPECT_EQ(rerun({"mlp_fc1"}), (std::multiset<std::string>{"fc1", "activation"}));
  p.sequence_parallel = true;
  EXPECT_TRUE(rerun({"mla_up_proj"}).empty());  // no MLA

  std::string bad;
  EXPECT_FALSE(ParseRecomputeModules({"core_attn", "attention"}, &o.recompute_modules, &bad));
  EXPECT_EQ(bad, "attention");
  EXPECT_FALSE(ParseRecomputeModules({"mlp", "mlp"}, &o.recompute_modules, &bad));
}

// Multi-token prediction: each module is one more layer of the last layer's kind on the last
// stage, and one more pass of the shared head; the other stages are as without it.
TEST(StepGraph, MultiTokenPredictionAddsALayerAndAHeadPassToTheLastStage) {
  const model::Architecture a = Gpt(4);
  Parallelism p;
  p.pp = 2;
  StepOptions o;
  const StepGraph base = BuildStepGraph(a, p, o);
  o.mtp_layers = 1;
  const StepGraph mtp = BuildStepGraph(a, p, o);
  EXPECT_EQ(base.stages[1].head_passes, 1);
  EXPECT_EQ(mtp.stages[1].head_passes, 2);
  EXPECT_EQ(mtp.stages[0].head_passes, 0);
  EXPECT_EQ(mtp.stages[1].layers, base.stages[1].layers + 1);
  EXPECT_EQ(mtp.stages[1].layers_of_kind[0], base.stages[1].layers_of_kind[0] + 1);
  EXPECT_DOUBLE_EQ(mtp.stages[1].params - base.stages[1].params, base.kinds[0].params);
  EXPECT_EQ(mtp.stages[0].layers, base.stages[0].layers);
  EXPECT_DOUBLE_EQ(mtp.stages[0].params, base.stages[0].params);
}

TEST(StepGraph, MoeLayersRouteTopKTokensOverLocalExperts) {
  const model::Architecture a = GptMoe(4, 4096);
  Parallelism p;
  p.dp = 8;
  p.ep = 4;
  StepOptions o;
  o.seq_len = 1024;
  const StepGraph g = BuildStepGraph(a, p, o);
  ASSERT_EQ(g.kinds.size(), 1u);
  ASSERT_TRUE(g.kinds[0].moe);
  double expert_flops = 0;
  int exchanges = 0;
  for (const Op& op : g.kinds[0].ops)
    if (op.kind == OpKind::kMatmul && op.pass == Pass::kForward && op.batch == 2) expert_flops += 2.0 * op.m * op.n * op.k * op.batch;
  for (const CommOp& c : g.kinds[0].comms) exchanges += c.kind == CommKind::kEpDispatch || c.kind == CommKind::kEpCombine;
  // 1024 tokens × top-2 through one SwiGLU expert (3 matrices of h × 4096) each.
  EXPECT_DOUBLE_EQ(expert_flops, 2.0 * 1024 * 2 * 3 * a.hidden * 4096.0);
  EXPECT_EQ(exchanges, 4);
  EXPECT_DOUBLE_EQ(g.stages[0].expert_params, a.layers * 8 * 3.0 * a.hidden * 4096 / 4);  // 4 layers, experts over ep = 4
}

// Qwen3 / OLMo 2 QK-norm: an RMSNorm over head_dim on each local query and key head,
// forward and backward (it was missing from the graph).
TEST(StepGraph, QkNormIsAnRmsNormOverEveryLocalQueryAndKeyHead) {
  model::Architecture a = Gpt(2);
  a.kv_heads = 4;
  a.qk_norm = true;
  model::ResolveDefaults(a);
  Parallelism p;
  p.tp = 2;
  StepOptions o;
  o.seq_len = 512;
  const StepGraph g = BuildStepGraph(a, p, o);
  int fwd = 0, bwd = 0;
  for (const Op& op : g.kinds[0].ops) {
    if (std::string(op.name) != "qk norm") continue;
    EXPECT_EQ(op.kind, OpKind::kNorm);
    EXPECT_FALSE(op.layer_norm) << "QK-norm is an RMSNorm even in a LayerNorm model";
    EXPECT_EQ(op.m, 512 * (16 / 2 + 4 / 2));  // tokens × (local q heads + local kv heads)
    EXPECT_EQ(op.n, a.head_dim);
    (op.pass == Pass::kForward ? fwd : bwd)++;
  }
  EXPECT_EQ(fwd, 1);
  EXPECT_EQ(bwd, 1);
  a.qk_norm = false;
  const StepGraph without = BuildStepGraph(a, p, o);  // named: a temporary would die before the loop
  for (const Op& op : without.kinds[0].ops) EXPECT_NE(std::string(op.name), "qk norm");
}

// Megatron-Core all-to-all dispatcher: with EP and more than one local expert, the received
// tokens are sorted by local expert before the grouped GEMM and restored after it
// ("permutation 2", sort_chunks_by_idxs), forward and backward; one local expert or no EP: none.
TEST(StepGraph, MoeAllToAllWithSeveralLocalExpertsSortsReceivedTokensByExpert) {
  const model::Architecture a = GptMoe(2, 1024);
  StepOptions o;
  o.seq_len = 1024;
  auto count = [&](int ep) {
    Parallelism p;
    p.dp = 8;
    p.ep = ep;
    int n = 0;
    const StepGraph g = BuildStepGraph(a, p, o);
    for (const Op& op : g.kinds[0].ops) {
      const std::string name = op.name;
      if (name != "sort chunks" && name != "unsort chunks") continue;
      EXPECT_EQ(op.kind, OpKind::kPermute);
      EXPECT_EQ(op.m, 1024 * 2);  // every received token copy moves once
      EXPECT_EQ(op.k, 1);
      ++n;
    }
    return n;
  };
  EXPECT_EQ(count(4), 4);  // 2 local experts: sort + unsort, forward and backward
  EXPECT_EQ(count(8), 0);  // 1 local expert: already in order
  EXPECT_EQ(count(1), 0);  // no all-to-all
}

// Transformer Engine FP8 current scaling reads each cast operand once more for its amax
// (nvte_compute_amax before nvte_quantize); delayed scaling does not; int8 (AQT) does.
TEST(StepGraph, Fp8CurrentScalingAddsAnAmaxPassBeforeEveryCast) {
  const model::Architecture a = Gpt(2);
  Parallelism p;
  StepOptions o;
  o.seq_len = 256;
  o.matmul_dtype = DType::kFp8;
  auto kinds = [&](OpKind k) {
    int n = 0;
    const StepGraph g = BuildStepGraph(a, p, o);
    for (const Op& op : g.kinds[0].ops) n += op.kind == k;
    return n;
  };
  EXPECT_EQ(kinds(OpKind::kAmax), 0);
  const int casts = kinds(OpKind::kCast);
  EXPECT_GT(casts, 0);
  // int8 (AQT) scales every operand by its own abs-max: the same casts, each with its pass.
  o.matmul_dtype = DType::kInt8;
  EXPECT_EQ(kinds(OpKind::kCast), casts);
  EXPECT_EQ(kinds(OpKind::kAmax), casts);
  o.matmul_dtype = DType::kFp8;
  o.fp8_current_scaling = true;
  EXPECT_EQ(kinds(OpKind::kAmax), casts);
  const StepGraph g = BuildStepGraph(a, p, o);
  const std::vector<Op>& ops = g.kinds[0].ops;
  for (size_t i = 0; i + 1 < ops.size(); ++i)
    if (ops[i].kind == OpKind::kAmax && ops[i].pass == Pass::kForward) {
      EXPECT_EQ(ops[i + 1].kind, OpKind::kCast);  // the amax reads exactly what the cast reads
      EXPECT_EQ(ops[i].m, ops[i + 1].m);
      EXPECT_EQ(ops[i].n, ops[i + 1].n);
    }
}

// Forward-only quantization (StepOptions::forward_only_quant, MaxText's tff_quant): the
// named linears keep their quantized forward GEMM and its input's abs-max and cast, but
// their dgrad and wgrad run in 16 bits and their output gradient is never cast; the other
// linears are untouched. Unknown and repeated names are refused.
TEST(StepGraph, ForwardOnlyQuantKeepsTheNamedLinearsBackwardIn16Bits) {
  const model::Architecture a = Gpt(2);
  Parallelism p;
  StepOptions o;
  o.seq_len = 256;
  o.matmul_dtype = DType::kInt8;
  std::string bad;
  ASSERT_TRUE(ParseForwardOnlyQuant({"proj", "fc1", "fc2"}, &o.forward_only_quant, &bad));
  StepOptions full = o;
  full.forward_only_quant = ForwardOnlyQuant{};
  const StepGraph gq = BuildStepGraph(a, p, o), gf = BuildStepGraph(a, p, full);
  auto count = [](const StepGraph& g, const std::string& name, Pass pass, OpKind kind, bool low) {
    int n = 0;
    for (const Op& op : g.kinds[0].ops)
      n +=
          op.name == name && op.pass == pass && op.kind == kind && (kind != OpKind::kMatmul || op.low_precision == low);
    return n;
  };
  for (const char* name : {"out proj", "fc1", "fc2"}) {
    EXPECT_EQ(count(gq, name, Pass::kForward, OpKind::kMatmul, true), 1) << name;
    EXPECT_EQ(count(gq, name, Pass::kBackward, OpKind::kMatmul, false), 2) << name;  // dgrad, wgrad in 16 bits
    EXPECT_EQ(count(gq, name, Pass::kBackward, OpKind::kMatmul, true), 0) << name;
    EXPECT_EQ(count(gq, name, Pass::kForward, OpKind::kCast, false), 1) << name;
    EXPECT_EQ(count(gq, name, Pass::kForward, OpKind::kAmax, false), 1) << name;
    EXPECT_EQ(count(gq, name, Pass::kBackward, OpKind::kCast, false), 0) << name;
    EXPECT_EQ(count(gq, name, Pass::kBackward, OpKind::kAmax, false), 0) << name;
    EXPECT_EQ(count(gf, name, Pass::kBackward, OpKind::kMatmul, true), 2) << name;
    EXPECT_EQ(count(gf, name, Pass::kBackward, OpKind::kCast, false), 1) << name;
  }
  EXPECT_EQ(count(gq, "qkv", Pass::kBackward, OpKind::kMatmul, true), 2);
  EXPECT_EQ(count(gq, "qkv", Pass::kBackward, OpKind::kCast, false), 1);
  // The same FLOPs either way: only their dtype moves.
  EXPECT_DOUBLE_EQ(MatmulFlops(gq.kinds[0], Pass::kBackward, false), MatmulFlops(gf.kinds[0], Pass::kBackward, false));
  ForwardOnlyQuant q;
  EXPECT_FALSE(ParseForwardOnlyQuant({"proj", "mlp"}, &q, &bad));
  EXPECT_EQ(bad, "mlp");
  EXPECT_FALSE(ParseForwardOnlyQuant({"fc1", "fc1"}, &q, &bad));
  EXPECT_EQ(bad, "fc1");
}

// LoRA (graph::Lora): frozen linears keep forward + dgrad only; each adapted linear W[k×n]
// adds 2·T·r·(k + n) forward and twice that backward; only adapters count as trained.
TEST(StepGraph, LoraBackwardIsDgradPlusAdapterTerms) {
  const model::Architecture a = Gpt();
  StepOptions full;
  full.seq_len = 1024;
  full.micro_batch = 2;
  StepOptions lora = full;
  lora.lora.rank = 16;
  lora.lora.qkv = lora.lora.proj = lora.lora.fc1 = lora.lora.fc2 = true;
  Parallelism p;
  const StepGraph gf = BuildStepGraph(a, p, full), gl = BuildStepGraph(a, p, lora);
  const LayerGraph& f = gf.kinds[0];
  const LayerGraph& l = gl.kinds[0];
  const double T = 2048, h = a.hidden, ffn = a.ffn_hidden, r = 16;
  // k + n of the four adapted linears: qkv h→3h, proj h→h, fc1 h→ffn, fc2 ffn→h.
  const double kn = (h + 3 * h) + (h + h) + (h + ffn) + (ffn + h);
  const double adapter_fwd = 2 * T * r * kn;
  const double base_fwd = MatmulFlops(f, Pass::kForward, false);
  EXPECT_NEAR(MatmulFlops(l, Pass::kForward, false), base_fwd + adapter_fwd, 1e-9 * base_fwd);
  // Backward: the frozen base's dgrad (= its forward, the attention core is not a matmul with
  // flash attention) plus twice the adapter forward.
  EXPECT_NEAR(MatmulFlops(l, Pass::kBackward, false), base_fwd + 2 * adapter_fwd, 1e-9 * base_fwd);
  EXPECT_NEAR(MatmulFlops(f, Pass::kBackward, false), 2 * base_fwd, 1e-9 * base_fwd);
  EXPECT_DOUBLE_EQ(l.adapter_params, r * kn);
  EXPECT_DOUBLE_EQ(f.adapter_params, 0);
  EXPECT_DOUBLE_EQ(gl.stages[0].adapter_params, r * kn * a.layers);
  // The frozen LM head has no weight gradient, the frozen embedding no backward.
  EXPECT_EQ(gl.head_ops.size() + 1, gf.head_ops.size());
  EXPECT_EQ(gl.embedding_ops.size() + 1, gf.embedding_ops.size());
  // Under TP each chip does 1/tp of every adapter.
  p.tp = 4;
  p.sequence_parallel = true;
  EXPECT_DOUBLE_EQ(BuildStepGraph(a, p, lora).kinds[0].adapter_params, r * kn / 4);
  // With sequence parallelism a block's input is gathered again in backward only for the
  // weight gradient, which the frozen base does not compute: one backward all-gather per
  // block (the output gradient's) instead of two.
  auto backward_gathers = [&](const StepOptions& o) {
    int n = 0;
    const StepGraph g = BuildStepGraph(a, p, o);  // kept alive: the loop reads into it
    for (const CommOp& c : g.kinds[0].comms) {
      n += c.kind == CommKind::kTpAllGather && c.pass == Pass::kBackward && !c.recompute &&
           c.name != std::string_view("lora");  // the blocks' own, not the adapters'
    }
    return n;
  };
  EXPECT_EQ(backward_gathers(full), 4);
  EXPECT_EQ(backward_gathers(lora), 2);
}

// What an adapter runs beside its GEMMs (graph::Lora, NeMo's ParallelLinearAdapter): the
// output scale (forward and backward), the sum into the base output, the input-gradient sum,
// dropout on its input only when asked for; under sequence parallelism a column-parallel
// adapter gathers its own input (reduce-scattering its gradient back) and a row-parallel one
// returns its output with an all-to-all each way; without SP a row-parallel adapter gathers
// its output.
TEST(StepGraph, LoraAdaptersScaleSumAndGatherTheirOwnTensors) {
  const model::Architecture a = Gpt();
  StepOptions o;
  o.seq_len = 1024;
  o.micro_batch = 2;
  o.lora.rank = 16;
  o.lora.qkv = o.lora.proj = true;
  o.lora.fc1 = o.lora.fc2 = false;
  const double T = 2048, h = a.hidden;
  auto elements = [&](const LayerGraph& l, const char* name, OpKind kind, Pass pass) {
    double n = 0;
    for (const Op& op : l.ops) {
      if (op.name == std::string_view(name) && op.kind == kind && op.pass == pass && !op.recompute)
        n += double(op.m) * double(op.n);
    }
    return n;
  };
  Parallelism p;
  const StepGraph g1 = BuildStepGraph(a, p, o);
  const LayerGraph& l1 = g1.kinds[0];
  // qkv's output T × 3h and proj's T × h are scaled and summed; the inputs' gradients (T × h
  // each) summed in backward.
  EXPECT_DOUBLE_EQ(elements(l1, "lora scale", OpKind::kScale, Pass::kForward), T * 4 * h);
  EXPECT_DOUBLE_EQ(elements(l1, "lora scale", OpKind::kScale, Pass::kBackward), T * 4 * h);
  EXPECT_DOUBLE_EQ(elements(l1, "lora add", OpKind::kAdd, Pass::kForward), T * 4 * h);
  EXPECT_DOUBLE_EQ(elements(l1, "lora input gradient sum", OpKind::kAdd, Pass::kBackward), T * 2 * h);
  EXPECT_DOUBLE_EQ(elements(l1, "lora dropout", OpKind::kDropout, Pass::kForward), 0);
  for (const CommOp& c : l1.comms) EXPECT_NE(c.name, std::string_view("lora"));  // one chip: nothing to gather
  StepOptions drop = o;
  drop.lora.dropout = 0.1;
  const StepGraph gd = BuildStepGraph(a, p, drop);
  EXPECT_DOUBLE_EQ(elements(gd.kinds[0], "lora dropout", OpKind::kDropout, Pass::kForward), T * 2 * h);
  EXPECT_DOUBLE_EQ(elements(gd.kinds[0], "lora dropout", OpKind::kDropout, Pass::kBackward), T * 2 * h);
  // Full recompute re-runs the adapters' forward kernels too.
  StepOptions full = drop;
  full.recompute = Recompute::kFull;
  double rerun = 0;
  const StepGraph gr = BuildStepGraph(a, p, full);
  for (const Op& op : gr.kinds[0].ops) rerun += op.recompute && op.kind == OpKind::kDropout;
  EXPECT_EQ(rerun, 2);

  // The adapters' collectives under TP 4: kind, pass and size (bf16), by layout.
  const double bytes = 2;
  using Comms = std::multiset<std::tuple<CommKind, Pass, double>>;
  auto lora_comms = [&](const StepOptions& opts) {
    Comms out;
    const StepGraph g = BuildStepGraph(a, p, opts);
    for (const CommOp& c : g.kinds[0].comms) {
      if (c.name == std::string_view("lora") && !c.recompute) out.emplace(c.kind, c.pass, c.bytes.value());
    }
    return out;
  };
  p.tp = 4;
  p.sequence_parallel = true;
  // SP, by default: the qkv adapter reads the base's gathered norm output (T × h, no
  // collective); the proj adapter all-gathers its T × h output forward and its gradient backward.
  EXPECT_EQ(lora_comms(drop), (Comms{{CommKind::kTpAllGather, Pass::kForward, T * h * bytes},
                                     {CommKind::kTpAllGather, Pass::kBackward, T * h * bytes}}));
  const StepGraph gs = BuildStepGraph(a, p, drop);
  EXPECT_DOUBLE_EQ(elements(gs.kinds[0], "lora dropout", OpKind::kDropout, Pass::kForward), T * h + T * h / 4);
  EXPECT_DOUBLE_EQ(elements(gs.kinds[0], "lora scale", OpKind::kScale, Pass::kForward), T * 3 * h / 4 + T / 4 * h);
  // The qkv adapter gathering its own input (T/4 × h before the gather), the proj adapter
  // returning by all-to-all (T × h/4 sent by each rank, each way).
  StepOptions own = drop;
  own.lora.gathered_input = false;
  own.lora.all_to_all = true;
  EXPECT_EQ(lora_comms(own), (Comms{{CommKind::kTpAllGather, Pass::kForward, T * h * bytes},
                                    {CommKind::kTpReduceScatter, Pass::kBackward, T * h * bytes},
                                    {CommKind::kTpAllToAll, Pass::kForward, T * h / 4 * bytes},
                                    {CommKind::kTpAllToAll, Pass::kBackward, T * h / 4 * bytes}}));
  const StepGraph go = BuildStepGraph(a, p, own);
  EXPECT_DOUBLE_EQ(elements(go.kinds[0], "lora dropout", OpKind::kDropout, Pass::kForward), T / 4 * h + T * h / 4);
  // Without SP: the qkv adapter's input gradient all-reduced, the proj adapter's output gathered.
  p.sequence_parallel = false;
  EXPECT_EQ(lora_comms(drop), (Comms{{CommKind::kTpAllReduce, Pass::kBackward, T * h * bytes},
                                     {CommKind::kTpAllGather, Pass::kForward, T * h * bytes}}));
}

// StepOptions::attention_layout_copies: q, k, v and the output copied around the fused
// kernel, forward and backward; part of the attention core, so selective recompute of
// core_attn re-runs the forward copy too.
TEST(StepGraph, AttentionLayoutCopiesAroundTheFusedKernel) {
  model::Architecture a = Gpt();
  a.kv_heads = 4;  // GQA: k and v narrower than q
  model::ResolveDefaults(a);
  StepOptions o;
  o.seq_len = 1024;
  o.micro_batch = 2;
  o.attention_layout_copies = true;
  Parallelism p;
  p.tp = 2;
  auto copied = [&](const StepOptions& opts, Pass pass, bool recompute) {
    double n = 0;
    const StepGraph g = BuildStepGraph(a, p, opts);
    for (const Op& op : g.kinds[0].ops) {
      if (op.kind == OpKind::kCopy && op.pass == pass && op.recompute == recompute) n += double(op.m) * double(op.n);
    }
    return n;
  };
  const double T = 2048, hd = double(a.head_dim);
  const double per_token = (16 / 2) * hd * 2 + (4 / 2) * hd * 2;  // q and out: 8 heads; k and v: 2 heads
  EXPECT_DOUBLE_EQ(copied(o, Pass::kForward, false), T * per_token);
  EXPECT_DOUBLE_EQ(copied(o, Pass::kBackward, false), T * per_token);
  EXPECT_DOUBLE_EQ(copied(o, Pass::kBackward, true), 0);
  StepOptions sel = o;
  sel.recompute = Recompute::kSelective;  // core_attn by default
  EXPECT_DOUBLE_EQ(copied(sel, Pass::kBackward, true), T * per_token);
  StepOptions none = o;
  none.attention_layout_copies = false;
  EXPECT_DOUBLE_EQ(copied(none, Pass::kForward, false), 0);
  StepOptions unfused = o;
  unfused.flash_attention = false;  // no fused kernel, nothing to copy around
  EXPECT_DOUBLE_EQ(copied(unfused, Pass::kForward, false), 0);
}

TEST(StepGraph, LoraTargetsParse) {
  Lora l;
  std::string bad;
  EXPECT_TRUE(ParseLoraTargets({"fc1", "qkv"}, &l, &bad));
  EXPECT_TRUE(l.qkv && l.fc1 && !l.proj && !l.fc2);
  EXPECT_FALSE(ParseLoraTargets({"qkv", "q_proj"}, &l, &bad));
  EXPECT_EQ(bad, "q_proj");
  EXPECT_FALSE(ParseLoraTargets({"qkv", "qkv"}, &l, &bad));
}

}  // namespace
}  // namespace pf::graph
