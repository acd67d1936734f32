// The fast-mode training step: layer kinds costed once, stages as sums, closed-form
// pipeline schedule, exposed communication by kind (see simulator.h).
#include "pathfinder/train/simulator.h"

#include <fmt/core.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <sstream>
#include <string_view>

#include "pathfinder/comm/collective.h"
#include "pathfinder/model/counts.h"
#include "pathfinder/ops/memory_ops.h"

namespace pf::train {

const char* Name(Schedule s) { return s == Schedule::kInterleaved ? "interleaved" : "1f1b"; }

namespace {
// Model chunks each pipeline stage holds: the virtual stages when interleaved, else one.
int ChunksPerStage(const TrainSettings& s) {
  return s.schedule == Schedule::kInterleaved ? std::max(1, s.virtual_stages) : 1;
}
}  // namespace

graph::StepOptions StepOptionsOf(const TrainSettings& s) {
  graph::StepOptions o;
  o.seq_len = s.seq_len;
  o.micro_batch = s.micro_batch;
  o.matmul_dtype = s.precision;
  o.act_dtype = DType::kBf16;
  o.recompute = s.recompute;
  o.recompute_modules = s.recompute_modules;
  o.recompute_layers = s.recompute_layers * ChunksPerStage(s);  // a per-chunk count
  o.flash_attention = s.flash_attention;
  o.attention_layout_copies = s.attention_layout_copies;
  o.dropout = s.dropout;
  o.moe_imbalance = s.moe_imbalance;
  o.fp8_current_scaling = s.fp8_current_scaling;
  o.fp8_activation_input = s.fp8_activation_input;
  o.compiled = s.compiled;
  o.logit_metrics = s.logit_metrics;
  o.expert_gemm_streams = s.expert_gemm_streams;
  o.mtp_layers = s.mtp_layers;
  o.lora.rank = s.lora_rank;
  o.lora.dropout = s.lora_dropout;
  o.lora.gathered_input = s.lora_gathered_input;
  o.lora.all_to_all = s.lora_all_to_all;
  std::string bad;
  if (s.lora_rank > 0 && !graph::ParseLoraTargets(s.lora_targets, &o.lora, &bad)) o.lora.rank = -1;  // Run() reports it
  if (!graph::ParseForwardOnlyQuant(s.forward_only_quant, &o.forward_only_quant, &bad))
    o.forward_only_quant = graph::ForwardOnlyQuant{};  // Run() reports it
  return o;
}

bool ParseTpOverlap(const std::string& text, TpOverlap* out, std::string* err) {
  std::istringstream in(text);
  std::string item;
  while (in >> item) {
    const size_t eq = item.find('='), colon = item.find(':');
    const std::string name = item.substr(0, eq);
    const std::string method =
        eq == std::string::npos ? ""
                                : item.substr(eq + 1, colon == std::string::npos ? std::string::npos : colon - eq - 1);
    int sms = -1;
    if (colon != std::string::npos) {
      const std::string n = item.substr(colon + 1);
      if (n.empty() || n.size() > 4 || n.find_first_not_of("0123456789") != std::string::npos) {
        *err = "'" + item + "': the SM count after ':' must be a whole number";
        return false;
      }
      sms = std::stoi(n);
    }
    int* bulk = name == "qkv_dgrad"   ? &out->qkv_dgrad_sms
                : name == "qkv_wgrad" ? &out->qkv_wgrad_sms
                : name == "fc1_dgrad" ? &out->fc1_dgrad_sms
                : name == "fc1_wgrad" ? &out->fc1_wgrad_sms
                                      : nullptr;
    // The forward reduce-scatters: their method and their pipeline's SMs.
    bool* ring = name == "proj_fprop" ? &out->proj_fprop_ring : name == "fc2_fprop" ? &out->fc2_fprop_ring : nullptr;
    int* rs_sms = name == "proj_fprop" ? &out->proj_fprop_sms : name == "fc2_fprop" ? &out->fc2_fprop_sms : nullptr;
    // The forward all-gathers: overlapped by ring exchange (TE's default) or not at all.
    bool* fprop = name == "qkv_fprop" ? &out->qkv_fprop : name == "fc1_fprop" ? &out->fc1_fprop : nullptr;
    // The dgrad output's reduce-scatter overlapped with the dgrad GEMM (Megatron-Core
    // tp_comm_overlap_rs_dgrad) instead of the bulk pair.
    TpOverlap::RsDgrad* rs_dgrad = name == "qkv_dgrad"   ? &out->qkv_rs_dgrad
                                   : name == "fc1_dgrad" ? &out->fc1_rs_dgrad
                                                         : nullptr;
    if (bulk != nullptr && method == "bulk" && sms >= 0) {
      *bulk = sms;
      if (rs_dgrad != nullptr) *rs_dgrad = TpOverlap::RsDgrad::kBulk;
    } else if (rs_dgrad != nullptr && method == "ring_exchange" && sms < 0) {
      *rs_dgrad = TpOverlap::RsDgrad::kRing;
    } else if (rs_dgrad != nullptr && method == "pipeline" && sms >= 0) {
      *rs_dgrad = TpOverlap::RsDgrad::kPipeline;
      *bulk = sms;
    } else if (fprop != nullptr && (method == "ring_exchange" || method == "none") && sms < 0) {
      *fprop = method == "ring_exchange";
    } else if (ring != nullptr && method == "pipeline" && sms >= 0) {
      *ring = false;
      *rs_sms = sms;
    } else if (ring != nullptr && method == "ring_exchange" && sms < 0) {
      *ring = true;
    } else {
      *err = "'" + item +
             "': expected qkv_wgrad or fc1_wgrad =bulk:SMS; qkv_dgrad or fc1_dgrad =bulk:SMS, =ring_exchange or "
             "=pipeline:SMS; proj_fprop or fc2_fprop =pipeline:SMS or =ring_exchange; qkv_fprop or fc1_fprop "
             "=ring_exchange or =none";
      return false;
    }
  }
  return true;
}

bool ParseLayoutOrder(const std::string& text, std::array<comm::Dim, 5>* order) {
  std::array<bool, 5> seen{};
  size_t n = 0, b = 0;
  while (b <= text.size()) {
    size_t e = text.find(',', b);
    std::string name = text.substr(b, e == std::string::npos ? std::string::npos : e - b);
    name.erase(0, name.find_first_not_of(' '));
    name.erase(name.find_last_not_of(' ') + 1);
    if (!name.empty()) {
      bool found = false;
      for (comm::Dim d : comm::kAllDims) {
        if (name == comm::DimName(d)) {
          if (seen[size_t(d)] || n >= 5) return false;
          seen[size_t(d)] = true;
          (*order)[n++] = d;
          found = true;
        }
      }
      if (!found) return false;
    }
    if (e == std::string::npos) break;
    b = e + 1;
  }
  for (comm::Dim d : comm::kAllDims)
    if (!seen[size_t(d)]) (*order)[n++] = d;
  return true;
}

hw::Cluster ClusterFromChipLinks(const hw::Chip& c, long chips) {
  hw::Cluster cl;
  cl.name = "links of " + c.name;
  cl.chip = c.name;
  cl.scale_up.link = c.scale_up.name;
  cl.scale_up.chips = std::max(1, c.scale_up.domain);
  cl.scale_up.bandwidth = c.scale_up.bandwidth;
  cl.server.chips = std::min(8, cl.scale_up.chips);
  cl.scale_out.link = c.scale_out.name;
  cl.scale_out.nic_bandwidth = c.scale_out.bandwidth;
  const long unit = std::max<long>(cl.scale_up.chips, cl.server.chips);
  cl.chips = std::max(unit, (chips + unit - 1) / unit * unit);
  return cl;
}

Simulator::Simulator(model::Architecture arch, ops::OpModel op_model, const hw::Cluster& cluster)
    : arch_(std::move(arch)), ops_(std::move(op_model)), net_(cluster), counts_(model::Count(arch_)) {}

namespace {

// One operator's cost on the chip.
struct OpCost {
  Seconds time;
  Flops flops;
  Bytes bytes;
};

// torch.autocast over fp32 parameters (TrainSettings::autocast_fp32_params): what one
// micro-batch of a stage adds. One cast kernel per matmul weight in the forward (read fp32,
// write 16-bit), again for the layers whose forward is recomputed (the recompute runs under
// a fresh autocast cache); in the backward each trained weight's gradient is cast to fp32
// and written to .grad, and from the second micro-batch on added to what is there.
struct AutocastCasts {
  ops::MemoryTraffic forward, recompute, grad;
};

AutocastCasts AutocastTraffic(const graph::StepGraph& sg, const graph::StageGraph& stage, bool lora, DType half_dtype,
                              int64_t microbatches) {
  int weights = stage.head ? 1 : 0, rweights = 0;
  double recast = 0;
  for (size_t k = 0; k < sg.kinds.size(); ++k) {
    int n = 0, nr = 0;
    for (const graph::Op& op : sg.kinds[k].ops) {
      if (op.kind != graph::OpKind::kMatmul) continue;
      if (op.recompute)
        ++nr;  // a forward matmul re-run in the backward
      else if (op.pass == graph::Pass::kForward)
        ++n;
    }
    weights += n * stage.layers_of_kind[k];
    rweights += nr * stage.layers_of_kind[k];
    if (nr > 0) recast += (sg.kinds[k].params + sg.kinds[k].expert_params) * stage.layers_of_kind[k];
  }
  const double w = stage.matmul_params, trained = lora ? stage.adapter_params : w;
  const double half = BytesPerElement(half_dtype), fp32 = BytesPerElement(DType::kFp32);
  const double accumulate = double(microbatches - 1) / double(microbatches);
  AutocastCasts c;
  c.forward = {Bytes(w * fp32), Bytes(w * half), Flops(w), std::max(1, weights)};
  c.recompute = {Bytes(recast * fp32), Bytes(recast * half), Flops(recast), std::max(1, rweights)};
  c.grad = {Bytes(trained * (half + fp32 * accumulate)), Bytes(trained * fp32), Flops(trained), std::max(1, weights)};
  return c;
}

// PyTorch FSDP's preparation of one micro-batch's unsharded gradients for their
// reduce-scatter (TrainSettings::pytorch_fsdp): the cast from the dtype the backward
// produced them in to the reduce dtype where they differ (read one, write the other) and,
// when the shards span more than one rank (a pre-divide factor above 1), the in-place
// division (read and write the reduce dtype); a kernel each per wrapped unit. Zero bytes
// when there is neither.
ops::MemoryTraffic FsdpReducePrep(double grads, DType produced, DType reduce, bool divide, int units) {
  const double c = BytesPerElement(produced), r = BytesPerElement(reduce);
  const bool cast = produced != reduce;
  const double passes = (cast ? 1.0 : 0.0) + (divide ? 1.0 : 0.0);
  return {Bytes(grads * ((cast ? c : 0.0) + (divide ? r : 0.0))), Bytes(grads * r * passes), Flops(grads * passes),
          std::max(1, units) * int(passes)};
}

OpCost Cost(const ops::OpModel& m, const graph::Op& op, const graph::StepOptions& o, ops::AttentionKernel kernel) {
  using graph::OpKind;
  const DType act = o.act_dtype;
  const bool bwd = op.pass == graph::Pass::kBackward && !op.recompute;
  auto mem = [&](const ops::MemoryTraffic& t) {
    const ops::MemoryOpCost c = m.Memory(t);
    return OpCost{c.time, t.flops, c.bytes};
  };
  switch (op.kind) {
    case OpKind::kMatmul: {
      const DType dt = op.low_precision ? o.matmul_dtype : act;
      if (op.streams > 0 && op.batch > op.streams) {
        // One GEMM per group on `streams` concurrent streams: full rounds of `streams` GEMMs
        // sharing the chip, then the rest; each round its own launch.
        const int64_t full = op.batch / op.streams, rest = op.batch % op.streams;
        const ops::MatmulCost c = m.Matmul(ops::MatmulShape{op.m, op.n, op.k, op.streams}, dt);
        OpCost r{c.time * double(full), c.flops * double(full), c.bytes * double(full)};
        if (rest > 0) {
          const ops::MatmulCost t = m.Matmul(ops::MatmulShape{op.m, op.n, op.k, rest}, dt);
          r.time += t.time, r.flops += t.flops, r.bytes += t.bytes;
        }
        return r;
      }
      const ops::MatmulCost c = m.Matmul(ops::MatmulShape{op.m, op.n, op.k, op.batch}, dt);
      return {c.time, c.flops, c.bytes};
    }
    case OpKind::kAttention: {
      ops::AttentionShape s;
      s.batch = op.attn.batch;
      s.heads = op.attn.heads;
      s.kv_heads = op.attn.kv_heads;
      s.head_dim = op.attn.head_dim;
      s.v_head_dim = op.attn.v_head_dim;
      s.q_len = op.attn.q_len;
      s.kv_len = op.attn.kv_len;
      s.window = op.attn.window;
      s.causal = op.attn.causal;
      s.dtype = act;
      s.kv_dtype = act;
      s.heads_split = op.attn.heads_split;
      s.seq_split = op.attn.seq_split;
      s.kernel = kernel;
      const ops::AttentionCost f = m.Attention(s);
      if (!bwd) return {f.time, f.flops, f.bytes};
      s.backward = true;
      const ops::AttentionCost fb = m.Attention(s);
      return {fb.time - f.time, fb.flops - f.flops, fb.bytes - f.bytes};
    }
    case OpKind::kNorm:
      return mem(op.layer_norm ? ops::LayerNorm(op.m, op.n, act, bwd) : ops::RmsNorm(op.m, op.n, act, bwd));
    case OpKind::kActivation:
      return mem(ops::Activation(op.gated ? ops::ActivationKind::kSwiGlu : ops::ActivationKind::kGelu, op.m, op.n, act, bwd));
    case OpKind::kRotary:
      return mem(ops::Rotary(op.m, op.n, 0, op.k, act));
    case OpKind::kResidual:
      if (bwd) {
        // The residual-gradient sum. Eager autograd: an add kernel (read both gradients,
        // write the sum). Compiled, it is fused into the norm backward, which then reads the
        // residual's gradient too and writes the sum in place of its own output (an H100
        // profile of this project's compiled step: triton_per_fused__fused_rms_norm_backward_
        // _to_copy_add, data/measurements/raw/h100-train-step-profile.txt; eager PyTorch
        // runs CUDAFunctor_add kernels instead).
        const double e = double(op.m) * double(op.n);
        return o.compiled ? mem(ops::MemoryTraffic{Bytes(e * BytesPerElement(act)), Bytes(0), Flops(e), 0})
                          : mem(ops::Add(op.m * op.n, act));
      }
      return o.dropout ? mem(ops::Fuse(ops::Dropout(op.m * op.n, act), ops::Add(op.m * op.n, act),
                                       Bytes(double(op.m * op.n) * BytesPerElement(act))))
                       : mem(ops::Add(op.m * op.n, act));
    case OpKind::kEmbedding:
      return mem(ops::EmbeddingGather(op.m, op.n, act));
    case OpKind::kCrossEntropy:
      return mem(ops::CrossEntropy(op.m, op.n, act));
    case OpKind::kRouter:
      return mem(ops::MoeRouting(op.m, op.n, op.k));
    case OpKind::kPermute:
      return mem(ops::MoePermute(op.m, op.k, op.n, act));
    case OpKind::kSoftmax:
      return mem(ops::Softmax(op.m, op.n, act, bwd));
    case OpKind::kDropout:
      return mem(ops::Dropout(op.m * op.n, act));
    case OpKind::kLogitMetric: {
      // torch.nn.CrossEntropyLoss under bf16 autocast, which runs cross_entropy in fp32: a cast
      // of the 16-bit logits to fp32, then log-softmax over them (its nll gather reads one
      // value per row). Composer's metrics/nlp.py LanguageCrossEntropy.update (v0.17.2).
      const double e = double(op.m) * double(op.n);
      const double half = BytesPerElement(act), fp32 = BytesPerElement(DType::kFp32);
      return mem(ops::MemoryTraffic{Bytes(e * (half + fp32)), Bytes(e * 2 * fp32), Flops(e * 5), 2});
    }
    case OpKind::kScale:  // an eager multiply by a scalar (a LoRA adapter's alpha/r)
    case OpKind::kCopy: {  // read the tensor, write it
      const double elements = double(op.m) * double(op.n), bytes = elements * BytesPerElement(act);
      return mem(ops::MemoryTraffic{Bytes(bytes), Bytes(bytes), Flops(op.kind == OpKind::kScale ? elements : 0.0), 1});
    }
    case OpKind::kAdd:
      return mem(ops::Add(op.m * op.n, act));
    case OpKind::kAmax: {
      // Reads the bf16 tensor once; writes one fp32 amax (Transformer Engine nvte_compute_amax).
      const double elements = double(op.m) * double(op.n);
      return mem(ops::MemoryTraffic{Bytes(elements * BytesPerElement(act)), Bytes(4.0), Flops(elements), 1});
    }
    case OpKind::kActivationStore: {
      // Forward: read the 16-bit activation input, write its fp8 copy; backward: read the copy,
      // write the 16-bit input the activation's backward reads (graph::StepOptions).
      const double elements = double(op.m) * double(op.n) * (op.gated ? 2.0 : 1.0);
      const double wide = elements * BytesPerElement(act), narrow = elements * BytesPerElement(DType::kFp8);
      return mem(ops::MemoryTraffic{Bytes(bwd ? narrow : wide), Bytes(bwd ? wide : narrow), Flops(elements), 1});
    }
    case OpKind::kCast: {
      // Reads the bf16 tensor, writes it in fp8 twice (as is and transposed).
      const double elements = double(op.m) * double(op.n);
      return mem(ops::MemoryTraffic{Bytes(elements * BytesPerElement(act)), Bytes(2 * elements * BytesPerElement(o.matmul_dtype)),
                                    Flops(elements), 1});
    }
    case OpKind::kWeightCast:
    case OpKind::kOptimizer:
      break;  // per-step work the simulator prices itself (AutocastTraffic, AdamStep), never a graph op
  }
  return {};
}

// Time of one of the graph's communication ops on its group (0 when the group is trivial).
struct Groups {
  // dp_dense: the ranks the dense ZeRO shards span (all of dp × cp, or a hybrid shard group);
  // dp_replica: the copies of one shard under hybrid sharding (one member without it).
  comm::Group tp, cp, ep, pp, dp_dense, dp_expert, dp_replica;
};

Seconds CommTime(const comm::Network& net, const Groups& g, const graph::CommOp& c, const model::Architecture& a) {
  using graph::CommKind;
  switch (c.kind) {
    case CommKind::kTpAllReduce:
      return comm::EstimateCollective(net, g.tp, comm::Collective::kAllReduce, c.bytes).time;
    case CommKind::kTpAllGather:
      return comm::EstimateCollective(net, g.tp, comm::Collective::kAllGather, c.bytes).time;
    case CommKind::kTpReduceScatter:
      return comm::EstimateCollective(net, g.tp, comm::Collective::kReduceScatter, c.bytes).time;
    case CommKind::kTpAllToAll:
      return comm::EstimateCollective(net, g.tp, comm::Collective::kAllToAll, c.bytes).time;
    case CommKind::kCpSendRecv:
      return comm::EstimateCollective(net, g.cp, comm::Collective::kSendRecv, c.bytes).time * double(c.steps);
    case CommKind::kEpDispatch:
    case CommKind::kEpCombine: {
      comm::MoeExchange x;
      x.tokens = c.tokens;
      x.hidden = a.hidden;
      x.top_k = a.moe.top_k;
      x.bytes_per_element = 2;
      return comm::EstimateMoeExchange(net, g.ep, x).time;
    }
  }
  return Seconds(0);
}

// Per-micro-batch costs of one layer kind (or of the embedding / head extras).
struct Part {
  Seconds fwd, bwd, recompute;          // compute
  Seconds attn_fwd, attn_bwd;           // of which attention (CP overlap window)
  Seconds tp_fwd, tp_bwd, cp_fwd, cp_bwd, ep;  // communication (before overlap)
  Seconds tp_ub_fwd, tp_ub_bwd;                // TP exposed under TE userbuffers (when asked for)
  Flops flops;
  Flops forward_flops, recompute_flops;  // of which the forward, and the forward re-run in backward
  Bytes link;  // sent by one rank over its links
};

// Share of a collective's nccl-tests size one rank sends with the bandwidth-optimal
// algorithms (ring, halving-doubling, direct): all-reduce 2(n−1)/n, all-gather,
// reduce-scatter and all-to-all (n−1)/n, send/recv all of it.
double SentShare(comm::Collective c, long n) {
  if (n <= 1) return 0;
  const double f = double(n - 1) / double(n);
  switch (c) {
    case comm::Collective::kAllReduce: return 2 * f;
    case comm::Collective::kSendRecv: return 1;
    default: return f;
  }
}

// The bytes a TP all-gather of a dense block moves: Transformer Engine gathers the
// quantized copy of a column-parallel linear's input (TE v1.8 layernorm_linear.py: the norm
// writes fp8 and gather_along_first_dim moves it; TE release_v2.9 gathers through the input
// quantizer: _all_gather_fp8 for delayed and current scaling, _all_gather_mxfp8) and its
// output gradient, and XLA's SPMD partitioner gathers the dot's operand, which under AQT is
// the int8 tensor. Under LoRA a forward gather moved outside userbuffers is 16-bit: the
// block returns its norm output to the adapters (return_layernorm_output), so the norm writes
// 16 bits and TE gathers those before the cast. Other gathers (an adapter's own, the LM
// head's) move activations.
double TpGatherShare(const graph::CommOp& c, const graph::StepOptions& o, bool userbuffer) {
  if (c.kind != graph::CommKind::kTpAllGather) return 1.0;
  const std::string_view block = c.name;
  if (block != "attention" && block != "mlp") return 1.0;
  if (o.lora.enabled() && c.pass == graph::Pass::kForward && !c.recompute && !userbuffer) return 1.0;
  return BytesPerElement(o.matmul_dtype) / BytesPerElement(o.act_dtype);
}

// TP communication exposed per micro-batch under Transformer Engine userbuffers (settings.h
// TpOverlap), in the dense blocks whose GEMMs TE overlaps: attention (qkv in, out proj out)
// and MLP (fc1 in, fc2 out). Each overlap is charged what it adds to its GEMM alone:
// * ring exchange over t ranks: the GEMM runs as t chunks of M/t rows, each while the next
//   chunk's 1/(t−1) of the collective moves: (t−1)·max(0, c − g), plus the chunked GEMMs'
//   extra time over the whole one;
// * pipeline (k splits, s SMs): k chunks, each beside the collective's s SMs (so slower by
//   ops::MatmulSlowdownBesideHeldCores(s / cores), measured on an H100), each chunk's
//   reduce-scatter behind the next chunk: g + (k−1)·max(g, c) + c;
// * bulk (s SMs): the collective beside a whole GEMM, max(0, C − G), while its s SMs slow
//   the GEMM by the same measured factor f: min(C, G)·(1 − 1/f).
// The collectives of a block without these GEMMs (MoE experts, MLA attention) and those
// outside the blocks (the LM head's) are not TE-overlapped: exposed whole. A chip that
// states no core count pays nothing for the SMs a collective holds.
void UserbufferExposed(const ops::OpModel& m, const comm::Network& net, const Groups& groups,
                       const model::Architecture& a, const std::vector<graph::Op>& ops,
                       const std::vector<graph::CommOp>& comms, const graph::StepOptions& o,
                       ops::AttentionKernel kernel, const TpOverlap& ub, Part* p) {
  // Collectives that do not run on the chip's cores (TPU ICI DMAs) hold none of them.
  const double t = double(groups.tp.members),
               cores = ops::CollectivesRunOnCores(m.chip()) ? double(m.chip().cores) : 0.0;
  auto gemm = [&](const graph::Op* op, double split) {
    if (op == nullptr) return Seconds(0);
    graph::Op c = *op;
    c.m = std::max<int64_t>(1, int64_t(std::ceil(double(op->m) / split)));
    return Cost(m, c, o, kernel).time * split;
  };
  // A GEMM's time beside a collective holding `sms` SMs over alone. Run() keeps sms < cores.
  auto beside = [&](int sms) { return cores > 0 ? ops::MatmulSlowdownBesideHeldCores(double(sms) / cores) : 1.0; };
  auto ring = [&](const graph::Op* op, Seconds c) {
    const Seconds chunks = gemm(op, t);
    return chunks - gemm(op, 1) + Max(Seconds(0), c / (t - 1) - chunks / t) * (t - 1);
  };
  auto pipeline = [&](const graph::Op* op, Seconds c, int sms) {
    const double k = std::max(1, ub.splits);
    const Seconds g = gemm(op, k) / k * beside(sms);
    return g + Max(g, c / k) * (k - 1) + c / k - gemm(op, 1);
  };
  auto bulk = [&](const graph::Op* op, Seconds c, int sms) {
    const Seconds g = gemm(op, 1);
    return Max(Seconds(0), c - g) + Min(c, g) * (1 - 1 / beside(sms));
  };
  struct Gemms {
    const graph::Op *f = nullptr, *dgrad = nullptr, *wgrad = nullptr;
  };
  auto find = [&](std::string_view name) {
    Gemms g;
    for (const graph::Op& op : ops) {
      if (op.kind != graph::OpKind::kMatmul || name != op.name || op.recompute) continue;
      if (op.pass == graph::Pass::kForward)
        g.f = &op;
      else
        (g.dgrad == nullptr ? g.dgrad : g.wgrad) = &op;  // the graph lists dgrad, then wgrad
    }
    return g;
  };
  const Gemms qkv = find("qkv"), proj = find("out proj"), fc1 = find("fc1"), fc2 = find("fc2");
  int backward_gathers[2] = {0, 0};  // per block: the output-gradient gather comes first
  for (const graph::CommOp& c : comms) {
    if (c.kind != graph::CommKind::kTpAllGather && c.kind != graph::CommKind::kTpReduceScatter &&
        c.kind != graph::CommKind::kTpAllReduce && c.kind != graph::CommKind::kTpAllToAll) {
      continue;
    }
    const bool gather = c.kind == graph::CommKind::kTpAllGather;
    graph::CommOp sized = c, alone = c;  // as a userbuffer overlap moves it; as NCCL does, outside one
    sized.bytes = c.bytes * TpGatherShare(c, o, true);
    alone.bytes = c.bytes * TpGatherShare(c, o, false);
    const Seconds time = CommTime(net, groups, sized, a), nccl = CommTime(net, groups, alone, a);
    const bool forward = c.pass == graph::Pass::kForward || c.recompute;
    Seconds& out = c.pass == graph::Pass::kForward ? p->tp_ub_fwd : p->tp_ub_bwd;
    const std::string_view block = c.name;
    const bool attn = block == "attention" && qkv.f && proj.f, mlp = block == "mlp" && fc1.f && fc2.f;
    if (c.kind == graph::CommKind::kTpAllReduce || c.kind == graph::CommKind::kTpAllToAll || (!attn && !mlp)) {
      out += nccl;
      continue;
    }
    const Gemms& in = attn ? qkv : fc1;
    const Gemms& outg = attn ? proj : fc2;
    if (forward) {
      const bool rs_ring = attn ? ub.proj_fprop_ring : ub.fc2_fprop_ring;
      const bool ag_overlap = attn ? ub.qkv_fprop : ub.fc1_fprop;
      out += gather    ? (ag_overlap ? ring(in.f, time) : nccl)
             : rs_ring ? ring(outg.f, time)
                       : pipeline(outg.f, time, attn ? ub.proj_fprop_sms : ub.fc2_fprop_sms);
    } else if (!gather) {
      const TpOverlap::RsDgrad rs = attn ? ub.qkv_rs_dgrad : ub.fc1_rs_dgrad;
      out += rs == TpOverlap::RsDgrad::kRing ? ring(in.dgrad, time)
             : rs == TpOverlap::RsDgrad::kPipeline
                 ? pipeline(in.dgrad, time, attn ? ub.qkv_dgrad_sms : ub.fc1_dgrad_sms)
                 : bulk(in.wgrad, time, attn ? ub.qkv_wgrad_sms : ub.fc1_wgrad_sms);
    } else if (backward_gathers[attn ? 0 : 1]++ == 0) {
      out += ring(outg.dgrad, time);
    } else {
      out += bulk(in.dgrad, time, attn ? ub.qkv_dgrad_sms : ub.fc1_dgrad_sms);
    }
  }
}

Part CostPart(const ops::OpModel& m, const comm::Network& net, const Groups& groups, const model::Architecture& a,
              const std::vector<graph::Op>& ops, const std::vector<graph::CommOp>& comms, const graph::StepOptions& o,
              ops::AttentionKernel kernel, const std::string& what, double repeats, std::vector<OpActivity>* activity,
              const TpOverlap* ub = nullptr) {
  Part p;
  if (ub != nullptr && groups.tp.members > 1) UserbufferExposed(m, net, groups, a, ops, comms, o, kernel, *ub, &p);
  for (const graph::Op& op : ops) {
    const OpCost c = Cost(m, op, o, kernel);
    const bool fwd = op.pass == graph::Pass::kForward;
    (fwd ? p.fwd : p.bwd) += c.time;
    if (op.recompute) p.recompute += c.time;
    if (op.kind == graph::OpKind::kAttention) (fwd ? p.attn_fwd : p.attn_bwd) += c.time;
    p.flops += c.flops;
    if (op.recompute)
      p.recompute_flops += c.flops;
    else if (fwd)
      p.forward_flops += c.flops;
    if (activity != nullptr && repeats > 0) {
      OpActivity act;
      act.name = fmt::format("{} ({}, {})", op.name, what, op.recompute ? "recompute" : fwd ? "forward" : "backward");
      act.kind = op.kind;
      act.flops = c.flops * repeats;
      act.bytes = c.bytes * repeats;
      act.time = c.time * repeats;
      act.count = repeats;
      activity->push_back(std::move(act));
    }
  }
  for (const graph::CommOp& given : comms) {
    graph::CommOp c = given;
    c.bytes = given.bytes * TpGatherShare(given, o, false);
    const Seconds t = CommTime(net, groups, c, a);
    const bool fwd = c.pass == graph::Pass::kForward;
    switch (c.kind) {
      case graph::CommKind::kTpAllReduce: p.link += c.bytes * SentShare(comm::Collective::kAllReduce, groups.tp.members); break;
      case graph::CommKind::kTpAllGather:
      case graph::CommKind::kTpReduceScatter:
        p.link += c.bytes * SentShare(comm::Collective::kAllGather, groups.tp.members);
        break;
      case graph::CommKind::kTpAllToAll:
        p.link += c.bytes * SentShare(comm::Collective::kAllToAll, groups.tp.members);
        break;
      case graph::CommKind::kCpSendRecv:
        if (groups.cp.members > 1) p.link += c.bytes * double(c.steps);
        break;
      case graph::CommKind::kEpDispatch:
      case graph::CommKind::kEpCombine:
        p.link += Bytes(double(c.tokens) * a.moe.top_k * double(a.hidden) * 2.0 *
                        SentShare(comm::Collective::kAllToAll, groups.ep.members));
        break;
    }
    switch (c.kind) {
      case graph::CommKind::kTpAllReduce:
      case graph::CommKind::kTpAllGather:
      case graph::CommKind::kTpReduceScatter:
      case graph::CommKind::kTpAllToAll:
        (fwd ? p.tp_fwd : p.tp_bwd) += t;
        break;
      case graph::CommKind::kCpSendRecv: (fwd ? p.cp_fwd : p.cp_bwd) += t; break;
      case graph::CommKind::kEpDispatch:
      case graph::CommKind::kEpCombine: p.ep += t; break;
    }
  }
  return p;
}

Seconds Exposed(Seconds comm, Seconds window) { return Max(Seconds(0), comm - window); }

// Data-parallel collective hidden behind `window` of compute, in buckets: the last bucket
// is always exposed (Megatron-LM overlap_grad_reduce / overlap_param_gather).
Seconds BucketExposed(Seconds t, Seconds window, double buckets, bool overlap) {
  if (!overlap) return t;
  return Max(t / buckets, t - window);
}

}  // namespace

TrainResult Simulator::Run(const graph::Parallelism& p, const TrainSettings& s, bool with_activity,
                           bool stop_when_not_fit) const {
  TrainResult r;
  const model::Architecture& a = arch_;
  r.chips = long(p.chips());
  auto fail = [&](std::string why) {
    r.ok = false;
    r.reason = std::move(why);
    return r;
  };
  if (!graph::Validate(p, a).empty()) return fail(graph::Validate(p, a).front().message);
  if (!ops_.Supports(s.precision)) return fail(fmt::format("the chip has no {} matmul peak", pf::Name(s.precision)));
  if (s.flash_attention && !ops_.SupportsAttention(s.attention_kernel)) {
    return fail(
        fmt::format("attention_kernel {} has no measured rate on {} (data/calibration: the ampere and hopper "
                    "families have one); use attention_kernel: best",
                    ops::Name(s.attention_kernel), ops_.chip().name));
  }
  if (!(s.lora_dropout >= 0 && s.lora_dropout <= 1) || (s.lora_dropout > 0 && s.lora_rank == 0)) {
    return fail(fmt::format("lora_dropout {} must be a probability in [0, 1] on LoRA adapters (lora_rank > 0)",
                            s.lora_dropout));
  }
  if (s.attention_layout_copies && !s.flash_attention) {
    return fail(
        "attention_layout_copies are the copies around a fused-attention kernel; with flash_attention: false "
        "there is none (drop attention_layout_copies)");
  }
  if (s.seq_len <= 0 || s.micro_batch <= 0) return fail("seq_len and micro_batch must be positive");
  if (s.fp8_params && s.precision != DType::kFp8) {
    return fail(fmt::format("fp8_params stores the weights in fp8, which needs precision: fp8 (not {})",
                            pf::Name(s.precision)));
  }
  if (s.overlap_tp_comm && p.tp > 1 && !p.sequence_parallel) {
    // Megatron-LM asserts it (megatron/training/arguments.py): TE's userbuffers overlap the
    // all-gathers and reduce-scatters of sequence parallelism, not all-reduces.
    return fail(
        "overlap_tp_comm needs sequence parallelism (Megatron-LM: 'Tensor parallel communication/GEMM "
        "overlap can happen only when sequence parallelism is enabled')");
  }
  {
    const TpOverlap& u = s.tp_overlap;
    const auto [fewest, most] = std::minmax(
        {u.proj_fprop_sms, u.fc2_fprop_sms, u.qkv_dgrad_sms, u.qkv_wgrad_sms, u.fc1_dgrad_sms, u.fc1_wgrad_sms});
    if (u.splits < 1 || fewest < 0) return fail("tp_overlap: splits must be at least 1 and SM counts not negative");
    if (s.overlap_tp_comm && ops::CollectivesRunOnCores(ops_.chip()) && ops_.chip().cores > 0 &&
        most >= ops_.chip().cores) {
      return fail(fmt::format("tp_overlap: a collective on {} SMs leaves none of the chip's {} cores for its GEMM",
                              most, ops_.chip().cores));
    }
  }
  if (s.collective_ctas < 1 ||
      (ops::CollectivesRunOnCores(ops_.chip()) && ops_.chip().cores > 0 && s.collective_ctas >= ops_.chip().cores)) {
    return fail(
        fmt::format("collective_ctas = {}: a collective needs at least 1 CTA and must leave some of the "
                    "chip's {} cores to the compute beside it",
                    s.collective_ctas, ops_.chip().cores));
  }
  if (s.seq_len % p.cp != 0) return fail(fmt::format("cp = {} does not divide seq_len = {}", p.cp, s.seq_len));
  const int v = ChunksPerStage(s);
  // Interleaving needs equal chunks unless the stages are uneven by request (then each
  // stage's layers are split into v chunks as evenly as they go).
  if (v > 1 && a.layers % (p.pp * v) != 0 && s.first_stage_layers == 0 && s.last_stage_layers == 0) {
    return fail(fmt::format("pp × virtual_stages = {} does not divide the {} layers", p.pp * v, a.layers));
  }
  if (p.pp > 1 && (s.first_stage_layers > 0 || s.last_stage_layers > 0)) {
    // Uneven stages: the fixed first/last stages and at least one layer per middle stage
    // must account for every layer.
    const int fixed = std::max(0, s.first_stage_layers) + std::max(0, s.last_stage_layers);
    const int middle = p.pp - (s.first_stage_layers > 0) - (s.last_stage_layers > 0);
    if (middle == 0 ? fixed != a.layers : fixed + middle > a.layers) {
      return fail(fmt::format("first_stage_layers {} + last_stage_layers {} do not fit {} layers on pp = {} stages",
                              s.first_stage_layers, s.last_stage_layers, a.layers, p.pp));
    }
  }
  const int64_t per_step_mb = int64_t(p.dp) * s.micro_batch;
  const int64_t global = s.global_batch > 0 ? s.global_batch : per_step_mb;
  if (global % per_step_mb != 0) {
    return fail(fmt::format("global batch {} is not a multiple of dp × micro_batch = {}", global, per_step_mb));
  }
  const long m = long(global / per_step_mb);
  r.microbatches = m;
  if (r.chips > net_.chips()) return fail(fmt::format("the layout needs {} chips; the cluster has {}", r.chips, net_.chips()));

  // Rank layout and process groups.
  comm::Layout layout;
  if (!ParseLayoutOrder(s.layout, &layout.order)) return fail("layout '" + s.layout + "' is not an order of tp, cp, ep, dp, pp");
  const int ep = std::max(1, p.ep);
  const bool ep_in_dp = p.dp % ep == 0;
  layout[comm::Dim::kTP] = p.tp;
  layout[comm::Dim::kCP] = p.cp;
  layout[comm::Dim::kEP] = ep_in_dp ? ep : 1;
  layout[comm::Dim::kDP] = ep_in_dp ? p.dp / ep : p.dp;
  layout[comm::Dim::kPP] = p.pp;
  auto stride_of = [&](comm::Dim d) {
    long st = 1;
    for (comm::Dim x : layout.order) {
      if (x == d) break;
      st *= layout[x];
    }
    return st;
  };
  Groups g;
  std::string group_error;
  auto group = [&](const char* name, long stride, long members, comm::Group* out) -> bool {
    auto res = comm::MakeGroup(net_, stride, members);
    if (!res.ok()) {
      group_error = std::string(name) + " group: " + res.error();
      return false;
    }
    *out = res.value();
    return true;
  };
  // Dense gradients reduce over every replica of the same shard: cp × ep × dp/ep ranks,
  // from the innermost of those dims (contiguous in the default order). Expert gradients
  // reduce over the expert-data-parallel group (dp/ep ranks). Under hybrid sharding the
  // shards span the innermost shard_group × cp of them and the copies of a shard lie that
  // many ranks apart.
  if (s.shard_group < 0) return fail("shard_group must not be negative");
  const bool hybrid = s.shard_group > 0 && s.shard_group < p.dp;
  if (s.shard_group > 0 && p.dp % s.shard_group != 0) {
    return fail(fmt::format("shard_group {} does not divide dp = {}", s.shard_group, p.dp));
  }
  if (hybrid && s.zero_stage == 0) {
    return fail(fmt::format("shard_group {} shards the ZeRO state, which needs zero_stage ≥ 1", s.shard_group));
  }
  if (hybrid && (ep > 1 || model::IsMoe(a))) return fail("shard_group with an MoE model is not modelled");
  const long dense_members = long(p.cp) * (hybrid ? s.shard_group : p.dp);
  long dense_stride = std::min({stride_of(comm::Dim::kCP), stride_of(comm::Dim::kEP), stride_of(comm::Dim::kDP)});
  if (!group("tp", stride_of(comm::Dim::kTP), p.tp, &g.tp) || !group("cp", stride_of(comm::Dim::kCP), p.cp, &g.cp) ||
      !group("ep", ep_in_dp ? stride_of(comm::Dim::kEP) : stride_of(comm::Dim::kTP), ep, &g.ep) ||
      !group("pp", stride_of(comm::Dim::kPP), p.pp, &g.pp) ||
      !group(hybrid ? "shard" : "dp", dense_stride, dense_members, &g.dp_dense) ||
      !group("expert dp", stride_of(comm::Dim::kDP), layout[comm::Dim::kDP], &g.dp_expert) ||
      !group("shard copies", dense_stride * dense_members, hybrid ? p.dp / s.shard_group : 1, &g.dp_replica)) {
    return fail("the process groups do not fit on the cluster network: " + group_error);
  }
  const double replicas = double(g.dp_replica.members);

  const graph::StepOptions o = StepOptionsOf(s);
  if (o.lora.rank < 0 || (s.lora_rank > 0 && !o.lora.qkv && !o.lora.proj && !o.lora.fc1 && !o.lora.fc2)) {
    return fail("lora_targets must be a non-empty list of qkv, proj, fc1, fc2");
  }
  if (!s.forward_only_quant.empty()) {
    graph::ForwardOnlyQuant q;
    std::string bad;
    if (!graph::ParseForwardOnlyQuant(s.forward_only_quant, &q, &bad))
      return fail(
          fmt::format("forward_only_quant: '{}' is unknown or repeated; write a list of qkv, proj, fc1, fc2", bad));
    if (BytesPerElement(s.precision) >= 2)
      return fail(
          fmt::format("forward_only_quant names linears quantized in the forward only, which needs a quantized "
                      "precision (fp8, int8 or fp4; not {}): set one or drop forward_only_quant",
                      pf::Name(s.precision)));
  }
  const bool lora = o.lora.enabled();
  if (s.recompute_layers < 0) return fail("recompute_layers must not be negative");
  if (s.recompute_layers > 0 && s.recompute != graph::Recompute::kFull) {
    return fail(fmt::format("recompute_layers {} counts fully recomputed layers, which needs recompute: full (not {})",
                            s.recompute_layers, graph::Name(s.recompute)));
  }
  const graph::StepGraph sg = graph::BuildStepGraph(a, p, o, s.first_stage_layers, s.last_stage_layers);
  const BytesPerSec host_link_bw = ops_.chip().host_link.bandwidth;
  for (const graph::StageGraph& stage : sg.stages) {
    if (o.recompute_layers > stage.layers) {
      return fail(
          v > 1 ? fmt::format("recompute_layers {} is more than the {} layers of a model chunk (a stage's {} over "
                              "{} virtual stages)",
                              s.recompute_layers, stage.layers / v, stage.layers, v)
                : fmt::format("recompute_layers {} is more than the {} layers of a pipeline stage", s.recompute_layers,
                              stage.layers));
    }
  }
  if (s.offload_layers < 0) return fail("offload_layers must not be negative");
  if (s.expert_gemm_streams < 0) return fail("expert_gemm_streams must not be negative");
  if (s.mtp_layers < 0) return fail("mtp_layers must not be negative");
  if (s.offload_layers > 0) {
    if (host_link_bw.value() <= 0) {
      return fail("offload_layers needs the chip's host link bandwidth, which " + ops_.chip().name +
                  " does not give: set host_link.bandwidth in its chip file");
    }
    for (const graph::StageGraph& stage : sg.stages) {
      if (s.offload_layers > stage.layers) {
        return fail("offload_layers " + std::to_string(s.offload_layers) + " is more than the " +
                    std::to_string(stage.layers) + " layers of a pipeline stage");
      }
    }
  }

  // ---- memory
  memory::MemoryOptions mo;
  mo.zero_stage = s.zero_stage;
  mo.shard_group = s.shard_group;
  mo.grad_dtype = s.grad_dtype;
  mo.allocator_overhead = s.allocator_overhead;
  if (s.fp8_params) mo.weight_dtype = mo.gather_dtype = DType::kFp8;
  mo.gather_per_weight = s.fsdp_gather_per_weight;
  // Mixed precision over fp32 parameters: the fp32 weights are the ones Adam updates, so the
  // optimizer adds only its two moments (8 bytes), not a master copy beside 16-bit weights.
  // FSDP still gathers them in 16 bits, as the collectives below price it.
  if (s.autocast_fp32_params) {
    mo.weight_dtype = DType::kFp32;
    mo.optimizer_bytes_per_param = 8.0;
    mo.grad_dtype = DType::kFp32;  // .grad holds the fp32 parameters' gradients
  }
  mo.virtual_stages = v;
  mo.microbatches = m;
  mo.offload_layers = s.offload_layers;
  r.memory = memory::TrainingMemory(a, p, sg, mo);
  r.memory_fit = memory::CheckFit(r.memory, ops_.chip().hbm.capacity);
  r.fits = r.memory_fit.ok;
  if (!r.fits && stop_when_not_fit) {
    r.ok = true;
    return r;
  }

  // ---- per-micro-batch costs of each layer kind and of the extras
  std::vector<OpActivity> kind_activity;
  std::vector<Part> kinds;
  kinds.reserve(sg.kinds.size());
  const ops::AttentionKernel ak = s.attention_kernel;
  const TpOverlap* ub = s.overlap_tp_comm ? &s.tp_overlap : nullptr;
  for (const graph::LayerGraph& k : sg.kinds)
    kinds.push_back(CostPart(ops_, net_, g, a, k.ops, k.comms, o, ak, k.what, 0, nullptr, ub));
  const Part embed =
      CostPart(ops_, net_, g, a, sg.embedding_ops, sg.embedding_comms, o, ak, "embedding", 0, nullptr, ub);
  const Part head = CostPart(ops_, net_, g, a, sg.head_ops, sg.head_comms, o, ak, "head", 0, nullptr, ub);

  // Exposed communication of one part per micro-batch.
  struct Exposed3 {
    Seconds tp, cp, ep;
  };
  auto exposed = [&](const Part& x) {
    Exposed3 e;
    e.tp = s.overlap_tp_comm ? x.tp_ub_fwd + x.tp_ub_bwd : x.tp_fwd + x.tp_bwd;
    // Ring attention overlaps each block's send with the attention on the previous block.
    e.cp = Exposed(x.cp_fwd, x.attn_fwd) + Exposed(x.cp_bwd, x.attn_bwd);
    e.ep = x.ep;
    return e;
  };

  // PP send/recv of one micro-batch's activations between stages; Megatron sends 1/tp of
  // the tensor and all-gathers it on the other side (Narayanan et al. 2021 §4.1).
  Seconds p2p;
  Bytes p2p_bytes;
  if (p.pp > 1) {
    p2p_bytes = Bytes(double(sg.tokens) * a.hidden * BytesPerElement(o.act_dtype) / double(p.tp));
    p2p = comm::EstimateCollective(net_, g.pp, comm::Collective::kSendRecv, p2p_bytes).time;
  }

  // A collective overlapped with compute on a chip whose collectives run on its cores holds
  // collective_ctas of them: the compute beside it takes `slowdown` times as long, so each
  // second of collective hidden behind compute adds 1 − 1/slowdown seconds to the step.
  const hw::Chip& chip = ops_.chip();
  const double slowdown =
      ops::CollectivesRunOnCores(chip) && chip.cores > 0
          ? ops::ComputeSlowdownBesideCollective(double(s.collective_ctas) / chip.cores, s.precision)
          : 1.0;
  const double beside_cost = 1.0 - 1.0 / slowdown;

  // ---- stages
  // Bytes of a gathered weight: the model's (fp8 under fp8_params); LoRA adapters stay 16-bit.
  const double wb = BytesPerElement(s.fp8_params ? DType::kFp8 : DType::kBf16), gb = BytesPerElement(s.grad_dtype);
  const double adapter_wb = BytesPerElement(DType::kBf16);
  const double dense_shard = double(dense_members);
  const double expert_shard = std::max(1.0, dense_shard / ep);
  // The dtype the backward leaves the gradients in: the activations' 16 bits, fp32 under
  // autocast over fp32 parameters (their .grad is fp32).
  const DType fsdp_grads_produced = s.autocast_fp32_params ? DType::kFp32 : o.act_dtype;
  // PyTorch FSDP's gradient preparation of one micro-batch on `stage` (no kernels: none).
  auto fsdp_prep = [&](const graph::StageGraph& stage) {
    if (!(s.pytorch_fsdp && s.zero_stage >= 2 && (dense_shard > 1 || replicas > 1)))
      return ops::MemoryTraffic{.kernels = 0};
    const double grads = lora ? stage.adapter_params : stage.params + stage.expert_params;
    return FsdpReducePrep(grads, fsdp_grads_produced, s.grad_dtype, dense_shard > 1, stage.layers);
  };
  struct StageTime {
    Seconds fwd, bwd, compute, recompute, tp, cp, ep, pp, fsdp, fsdp_beside, offload, total;
    Bytes link;  // sent per micro-batch by one chip of the stage
  };
  std::vector<StageTime> st(sg.stages.size());
  int critical = 0;
  Seconds sum_t, max_t;
  for (size_t si = 0; si < sg.stages.size(); ++si) {
    const graph::StageGraph& stage = sg.stages[si];
    StageTime& x = st[si];
    auto add = [&](const Part& part, double n) {
      const Exposed3 e = exposed(part);
      x.fwd += part.fwd * n;
      x.bwd += part.bwd * n;
      x.recompute += part.recompute * n;
      x.link += part.link * n;
      x.tp += e.tp * n;
      x.cp += e.cp * n;
      x.ep += e.ep * n;
    };
    for (size_t k = 0; k < kinds.size(); ++k) add(kinds[k], double(stage.layers_of_kind[k]));
    if (stage.embedding) add(embed, 1);
    if (stage.head) add(head, double(stage.head_passes));  // once, and again per multi-token-prediction module
    if (s.autocast_fp32_params) {
      const AutocastCasts c = AutocastTraffic(sg, stage, lora, o.act_dtype, m);
      x.fwd += ops_.Memory(c.forward).time;
      x.bwd += ops_.Memory(c.grad).time;
      if (c.recompute.read.value() > 0) {
        const Seconds t = ops_.Memory(c.recompute).time;
        x.bwd += t;
        x.recompute += t;
      }
    }
    if (const ops::MemoryTraffic prep = fsdp_prep(stage); prep.kernels > 0) x.bwd += ops_.Memory(prep).time;
    x.compute = x.fwd + x.bwd;
    if (p.pp > 1) {
      // One send forward and one backward per model chunk; overlapped (Megatron-LM
      // overlap_p2p_comm), they leave the steady state (the fill chain is charged below).
      if (!s.overlap_pp_comm) x.pp = p2p * (2.0 * v);
      x.link += p2p_bytes * (2.0 * v);
    }
    if (s.zero_stage >= 3 && (dense_shard > 1 || replicas > 1)) {
      // FSDP: per micro-batch all-gather of the weights in forward and again in backward,
      // reduce-scatter of the gradients in backward, prefetched one layer ahead so only the
      // part longer than the compute and the first layer's gather are exposed. Each layer
      // is its own collective call (PyTorch FSDP wraps every transformer block as a unit;
      // DeepSpeed ZeRO-3 fetches per module), so every layer pays the collective's latency.
      const double params = stage.params, experts = stage.expert_params;
      const double calls = std::max(1, stage.layers);
      auto ag = [&](double bytes, const comm::Group& grp, double shard) {
        return shard > 1
                   ? comm::EstimateCollective(net_, grp, comm::Collective::kAllGather, Bytes(bytes / calls)).time *
                         calls
                   : Seconds(0);
      };
      auto rs = [&](double n, const comm::Group& grp, double shard) {
        return shard > 1
                   ? comm::EstimateCollective(net_, grp, comm::Collective::kReduceScatter, Bytes(n * gb / calls)).time * calls
                   : Seconds(0);
      };
      // Hybrid sharding: each layer's gradient shard is then all-reduced over its copies.
      auto ar = [&](double n) {
        return replicas > 1 ? comm::EstimateCollective(net_, g.dp_replica, comm::Collective::kAllReduce,
                                                       Bytes(n / dense_shard * gb / calls))
                                      .time *
                                  calls
                            : Seconds(0);
      };
      const double dense_bytes = params * wb + stage.adapter_params * adapter_wb;
      const Seconds gather = ag(dense_bytes, g.dp_dense, dense_shard) + ag(experts * wb, g.dp_expert, expert_shard);
      // LoRA: the frozen weights are gathered but only the adapters' gradients are reduced.
      const double reduced = lora ? stage.adapter_params : params;
      const Seconds reduce = rs(reduced, g.dp_dense, dense_shard) + ar(reduced) +
                             (lora ? Seconds(0) : rs(experts, g.dp_expert, expert_shard));
      const double layers = std::max(1, stage.layers);
      x.fsdp = Exposed(gather, x.fwd) + Exposed(gather + reduce, x.bwd) + gather / layers;
      // What the hidden part costs the compute it runs beside.
      x.fsdp_beside = (Min(gather, x.fwd) + Min(gather + reduce, x.bwd)) * beside_cost;
      x.fsdp += x.fsdp_beside;
      // Sent: the weights gathered twice, the gradients reduce-scattered once.
      const double ag_dense = SentShare(comm::Collective::kAllGather, long(dense_shard));
      const double ag_expert = SentShare(comm::Collective::kAllGather, long(expert_shard));
      x.link += Bytes(2 * (dense_bytes * ag_dense + experts * wb * ag_expert));
      x.link += lora ? Bytes(gb * stage.adapter_params * ag_dense) : Bytes(gb * (params * ag_dense + experts * ag_expert));
      x.link += Bytes(gb * reduced / dense_shard * SentShare(comm::Collective::kAllReduce, long(replicas)));
    }
    if (s.offload_layers > 0) {
      // Activation offload: the copies run on the chip's copy engines beside the compute,
      // out to host memory during the forward and back during the backward (the host link
      // is full duplex); only what outlasts that pass is exposed. Their HBM traffic is not
      // charged to the compute (a host link moves a few percent of HBM bandwidth).
      const Seconds copy = r.memory[si].offloaded / host_link_bw;
      x.offload = Exposed(copy, x.fwd) + Exposed(copy, x.bwd);
    }
    x.total = x.compute + x.tp + x.cp + x.ep + x.pp + x.fsdp + x.offload;
    sum_t += x.total;
    if (x.total > max_t) {
      max_t = x.total;
      critical = int(si);
    }
  }
  r.critical_stage = critical;
  r.virtual_stages = v;
  r.stages.reserve(st.size());
  for (const StageTime& x : st) {
    const Seconds comm = x.total - x.compute - x.pp;
    const double f = x.compute.value() > 0 ? x.fwd / x.compute : 0.5;
    r.stages.push_back({x.fwd + comm * f, x.bwd + comm * (1 - f), p2p, {}, {}, {}, {}, {}});
  }
  // Fill and drain: every other stage's time per micro-batch chunk, its send/recv included.
  // Overlapped sends still hold up the first micro-batch on its way through the stages
  // (as in event mode, where an overlapped send only frees the compute stream): 2 hops per
  // other stage.
  const Seconds chain_pp = s.overlap_pp_comm ? p2p * (2.0 * double(st.size() - 1)) : Seconds(0);
  const Seconds pipe = max_t * double(m) + (sum_t - max_t) / double(v) + chain_pp;

  // ---- data-parallel gradient reduction and parameter gather, optimizer step
  // Under LoRA only the adapters train: their gradients are the only ones reduced, their
  // parameters the only ones the distributed optimizer updates and re-gathers.
  Seconds dp_exposed, dp_beside, optimizer;
  ops::MemoryTraffic critical_adam;  // the critical stage's optimizer step, for its activity
  Bytes dp_link;  // the critical stage's chip, per step
  for (size_t si = 0; si < sg.stages.size(); ++si) {
    const graph::StageGraph& stage = sg.stages[si];
    const double params = lora ? stage.adapter_params : stage.params, experts = lora ? 0.0 : stage.expert_params;
    // Parameters per bucket (settings.h dp_bucket_params): unbounded without overlap.
    const double bucket = !s.overlap_dp_comm       ? std::numeric_limits<double>::infinity()
                          : s.dp_bucket_params > 0 ? s.dp_bucket_params
                                                   : std::max(40e6, 1e6 * double(p.dp));
    const double buckets = std::max(1.0, std::ceil((params + experts) / bucket));
    const double pb = lora ? adapter_wb : wb;  // bytes of a trained (re-gathered) parameter
    const DType trained_dtype = s.fp8_params && !lora ? DType::kFp8 : DType::kBf16;
    Seconds grad, gather;
    // One collective call per bucket, each paying the collective's latency.
    auto coll = [&](comm::Collective c, double n, double bytes_per, const comm::Group& grp, double shard) {
      if (shard <= 1 || n <= 0) return Seconds(0);
      const double calls = std::max(1.0, std::ceil(n / bucket));
      return comm::EstimateCollective(net_, grp, c, Bytes(n * bytes_per / calls)).time * calls;
    };
    if (s.zero_stage == 0) {
      grad = coll(comm::Collective::kAllReduce, params, gb, g.dp_dense, dense_shard) +
             coll(comm::Collective::kAllReduce, experts, gb, g.dp_expert, expert_shard);
    } else if (s.zero_stage <= 2) {
      // Hybrid sharding: the reduced shard is all-reduced over its copies, a call per bucket.
      const double calls = std::max(1.0, std::ceil(params / bucket));
      const Seconds copies = replicas > 1 && params > 0
                                 ? comm::EstimateCollective(net_, g.dp_replica, comm::Collective::kAllReduce,
                                                            Bytes(params / dense_shard * gb / calls))
                                           .time *
                                       calls
                                 : Seconds(0);
      grad = coll(comm::Collective::kReduceScatter, params, gb, g.dp_dense, dense_shard) +
             coll(comm::Collective::kReduceScatter, experts, gb, g.dp_expert, expert_shard) + copies;
      gather = coll(comm::Collective::kAllGather, params, pb, g.dp_dense, dense_shard) +
               coll(comm::Collective::kAllGather, experts, pb, g.dp_expert, expert_shard);
    }
    // Gradients of the last micro-batch become ready during its backward; parameters are
    // needed from the first micro-batch's forward of the next step.
    StageTiming& out = r.stages[si];
    out.dp_grad = grad;
    out.dp_gather = gather;
    out.dp_grad_exposed = BucketExposed(grad, st[si].bwd, buckets, s.overlap_dp_comm);
    out.dp_gather_exposed = BucketExposed(gather, st[si].fwd, buckets, s.overlap_dp_comm);
    // What the hidden parts cost the compute they run beside.
    const Seconds grad_beside = (grad - out.dp_grad_exposed) * beside_cost;
    const Seconds gather_beside = (gather - out.dp_gather_exposed) * beside_cost;
    out.dp_grad_exposed += grad_beside;
    out.dp_gather_exposed += gather_beside;
    if (out.dp_grad_exposed + out.dp_gather_exposed > dp_exposed) {
      dp_exposed = out.dp_grad_exposed + out.dp_gather_exposed;
      dp_beside = grad_beside + gather_beside;
    }
    if (int(si) == critical) {
      const long nd = long(dense_shard), ne = long(expert_shard);
      if (s.zero_stage == 0) {
        dp_link = Bytes(gb * (params * SentShare(comm::Collective::kAllReduce, nd) +
                              experts * SentShare(comm::Collective::kAllReduce, ne)));
      } else if (s.zero_stage <= 2) {
        dp_link = Bytes((gb + pb) * (params * SentShare(comm::Collective::kReduceScatter, nd) +
                                     experts * SentShare(comm::Collective::kReduceScatter, ne)) +
                        gb * params / dense_shard * SentShare(comm::Collective::kAllReduce, long(replicas)));
      }
    }
    const double local = s.zero_stage >= 1 ? params / dense_shard + experts / expert_shard : params + experts;
    // Under autocast the parameters themselves are fp32 (no 16-bit copy to write) and the
    // gradients Adam reads are the fp32 .grad.
    const ops::MemoryTraffic adam = s.autocast_fp32_params ? ops::AdamStep(int64_t(local), DType::kFp32, DType::kFp32)
                                                           : ops::AdamStep(int64_t(local), trained_dtype, s.grad_dtype);
    out.optimizer = ops_.Memory(adam).time;
    optimizer = Max(optimizer, out.optimizer);
    if (int(si) == critical) critical_adam = adam;
  }

  // ---- breakdown on the critical stage
  const StageTime& c = st[size_t(critical)];
  StepBreakdown& b = r.step;
  b.compute = c.compute * double(m);
  b.recompute = c.recompute * double(m);
  b.tp_comm = c.tp * double(m);
  b.cp_comm = c.cp * double(m);
  b.ep_comm = c.ep * double(m);
  b.pp_comm = c.pp * double(m) + chain_pp;
  b.fsdp_comm = c.fsdp * double(m);
  b.offload = c.offload * double(m);
  b.bubble = pipe - max_t * double(m) - chain_pp;
  b.dp_comm = dp_exposed;
  b.beside_collectives = c.fsdp_beside * double(m) + dp_beside;
  b.dp_beside = dp_beside;
  b.optimizer = optimizer;
  b.total = pipe + dp_exposed + optimizer;
  r.link_sent = c.link * double(m) + dp_link;

  // ---- throughput, FLOPs, MFU/HFU (DESIGN.md definitions)
  r.tokens_per_step = double(global) * double(s.seq_len);
  const double step_s = b.total.value();
  r.tokens_per_s = r.tokens_per_step / step_s;
  r.tokens_per_s_per_chip = r.tokens_per_s / double(r.chips);
  r.samples_per_s = double(global) / step_s;
  const Flops forward_layers = model::ForwardFlopsPerToken(a, counts_, s.seq_len);
  r.model_flops_per_token = 3.0 * forward_layers;  // model::TrainingFlopsPerToken
  const double n_active = counts_.active_non_embedding_params;
  // MFU under LoRA counts the work LoRA requires, not 6·N: frozen weights forward + dgrad
  // (4·N_frozen), adapters forward + dgrad + wgrad (6·N_adapter), attention as in training
  // (3 × forward). N_adapter is the whole model's: the per-chip adapters × tp summed over the
  // pipeline stages (each chip holds 1/tp of every adapter, graph::Lora).
  double n_adapter = 0;
  if (lora) {
    for (const graph::StageGraph& stage : sg.stages) n_adapter += stage.adapter_params * double(p.tp);
    r.model_flops_per_token = r.model_flops_per_token - Flops(2.0 * n_active) + Flops(6.0 * n_adapter);
  }
  Flops recompute;
  const bool core_only = s.recompute_modules == graph::RecomputeModules{};  // the attention core alone
  if (s.recompute == graph::Recompute::kFull && s.recompute_layers == 0) {
    recompute = forward_layers;
  } else if (s.recompute == graph::Recompute::kSelective && core_only) {
    recompute = forward_layers - Flops(2.0 * n_active);  // the attention's score FLOPs
  } else if (s.recompute != graph::Recompute::kNone) {
    // Other modules, or full recompute of some layers: the share of the layers' forward FLOPs
    // the graph re-runs, every stage's layers counted (the share is the same on every chip of
    // a stage).
    double re = 0, fwd = 0;
    for (const graph::StageGraph& stage : sg.stages) {
      for (size_t k = 0; k < kinds.size(); ++k) {
        re += kinds[k].recompute_flops.value() * double(stage.layers_of_kind[k]);
        fwd += kinds[k].forward_flops.value() * double(stage.layers_of_kind[k]);
      }
    }
    if (fwd > 0) recompute = forward_layers * (re / fwd);
  }
  const Flops lm_head((lora ? 4.0 : 6.0) * double(a.vocab) * a.hidden);  // LoRA: frozen head, no wgrad
  r.hardware_flops_per_token = r.model_flops_per_token + recompute + lm_head;
  const FlopsPerSec peak = ops_.chip().peak[s.precision];
  r.model_flops_per_chip = FlopsPerSec(r.model_flops_per_token.value() * r.tokens_per_s_per_chip);
  r.hardware_flops_per_chip = FlopsPerSec(r.hardware_flops_per_token.value() * r.tokens_per_s_per_chip);
  r.mfu = r.model_flops_per_chip / peak;
  r.hfu = FlopsPerSec((r.model_flops_per_token + recompute).value() * r.tokens_per_s_per_chip) / peak;
  if (s.tokens_to_train > 0) {
    r.time_to_train = Seconds(s.tokens_to_train / r.tokens_per_s);
    r.chip_hours = r.time_to_train.value() * double(r.chips) / 3600.0;
  }


  // ---- per-operator activity on the critical stage
  if (with_activity) {
    const graph::StageGraph& stage = sg.stages[size_t(critical)];
    for (size_t k = 0; k < sg.kinds.size(); ++k) {
      if (stage.layers_of_kind[k] == 0) continue;
      CostPart(ops_, net_, g, a, sg.kinds[k].ops, {}, o, s.attention_kernel, sg.kinds[k].what,
               double(m) * stage.layers_of_kind[k], &r.activity);
    }
    if (stage.embedding)
      CostPart(ops_, net_, g, a, sg.embedding_ops, {}, o, s.attention_kernel, "embedding", double(m), &r.activity);
    if (stage.head) {
      CostPart(ops_, net_, g, a, sg.head_ops, {}, o, s.attention_kernel, "head", double(m) * stage.head_passes,
               &r.activity);
    }
    if (critical_adam.read.value() > 0) {
      const ops::MemoryOpCost cost = ops_.Memory(critical_adam);
      r.activity.push_back(
          {"optimizer step (Adam)", graph::OpKind::kOptimizer, critical_adam.flops, cost.bytes, cost.time, 1});
    }
    if (const ops::MemoryTraffic t = fsdp_prep(stage); t.kernels > 0) {
      const ops::MemoryOpCost cost = ops_.Memory(t);
      r.activity.push_back({"gradient cast and pre-divide before reduce-scatter (PyTorch FSDP)",
                            graph::OpKind::kWeightCast, t.flops * double(m), cost.bytes * double(m),
                            cost.time * double(m), double(m) * t.kernels});
    }
    if (s.autocast_fp32_params) {
      const AutocastCasts c = AutocastTraffic(sg, stage, lora, o.act_dtype, m);
      for (const auto& [name, t] : {std::pair{"weight casts (autocast, forward)", c.forward},
                                    std::pair{"weight casts (autocast, recompute)", c.recompute},
                                    std::pair{"gradient casts into .grad (autocast, backward)", c.grad}}) {
        if (t.read.value() <= 0) continue;
        const ops::MemoryOpCost cost = ops_.Memory(t);
        r.activity.push_back({name, graph::OpKind::kWeightCast, t.flops * double(m), cost.bytes * double(m),
                              cost.time * double(m), double(m) * t.kernels});
      }
    }
  }
  r.ok = true;
  return r;
}

}  // namespace pf::train
