// Iteration cost of one replica: the operators of one transformer layer per chip (after
// TP/EP splitting) at the iteration's token count, attention per prompt chunk and for the
// decode batch, the LM head at the sampled rows, TP all-reduces and EP all-to-all.
#include "pathfinder/serve/iteration_cost.h"

#include <algorithm>
#include <cmath>

#include "pathfinder/core/check.h"
#include "pathfinder/model/counts.h"
#include "pathfinder/ops/memory_ops.h"

namespace pf::serve {
namespace {

int64_t CeilDiv(int64_t a, int64_t b) { return (a + b - 1) / b; }

// The matmul dtype: the weights' dtype when the chip's matrix units take it, else the
// next wider one they take (e.g. FP4 weights on a chip without FP4 run as FP8, then BF16).
DType MatmulDType(const ops::OpModel& op, DType want) {
  static constexpr DType kWider[] = {DType::kFp4, DType::kFp8, DType::kBf16, DType::kFp16, DType::kFp32};
  bool seen = false;
  for (DType t : kWider) {
    if (t == want) seen = true;
    if (seen && op.Supports(t)) return t;
  }
  return op.Supports(want) ? want : DType::kBf16;
}

// Bytes of one activation element between kernels (BF16 in every engine modelled).
constexpr double kActBytes = 2.0;

}  // namespace

ChipWork& ChipWork::operator+=(const ChipWork& o) {
  for (size_t i = 0; i < flops.size(); ++i) flops[i] += o.flops[i];
  hbm += o.hbm;
  link += o.link;
  return *this;
}

ChipWork ChipWork::operator*(double s) const {
  ChipWork w = *this;
  for (Flops& f : w.flops) f *= s;
  w.hbm *= s;
  w.link *= s;
  return w;
}

Flops ChipWork::TotalFlops() const {
  Flops t;
  for (Flops f : flops) t += f;
  return t;
}

int64_t ContextBucket(int64_t tokens) {
  if (tokens <= 64) return std::max<int64_t>(1, tokens);
  int64_t p = 1;
  while (p * 2 <= tokens) p *= 2;
  const int64_t step = p / 32;
  return (tokens + step / 2) / step * step;
}

hw::Cluster DefaultCluster(const hw::Chip& chip, long chips) {
  hw::Cluster c;
  c.name = "default";
  c.chip = chip.name;
  c.chips = std::max(1L, chips);
  const int domain = chip.scale_up.domain > 0 ? chip.scale_up.domain : 8;
  c.scale_up.chips = int(std::min<long>(c.chips, domain));
  while (c.chips % c.scale_up.chips != 0) --c.scale_up.chips;
  c.scale_up.bandwidth = chip.scale_up.bandwidth;
  c.scale_up.efficiency = 0.78;  // see the header comment
  c.server.chips = c.scale_up.chips;
  c.scale_out.nic_bandwidth = chip.scale_out.bandwidth;
  c.scale_out.efficiency = 0.78;  // same assumption as the scale-up level (no measured row)
  c.scale_out.tiers = 2;
  return c;
}

IterationCostModel::IterationCostModel(const ops::OpModel& op, const model::Architecture& arch,
                                       const graph::Parallelism& p, const ServeSettings& s, const comm::Network* net)
    : op_(op), a_(arch), s_(s), tp_(std::max(1, p.tp)), pp_(std::max(1, p.pp)), ep_(std::max(1, p.ep)) {
  mm_ = MatmulDType(op, s.weight_dtype);
  if (!op.Supports(s_.attention_dtype)) s_.attention_dtype = op.Supports(DType::kBf16) ? DType::kBf16 : mm_;
  if (net == nullptr) {
    own_net_.emplace(DefaultCluster(op.chip(), long(tp_) * pp_ * 2));
    net_ = &*own_net_;
  } else {
    net_ = net;
  }
  if (tp_ > 1) {
    auto g = comm::MakeGroup(*net_, 1, tp_);
    if (g.ok()) tp_group_ = g.value();
  }
  if (ep_ > 1) {
    auto g = comm::MakeGroup(*net_, 1, ep_);
    if (g.ok()) ep_group_ = g.value();
  }
  {
    // Prefill replica → decode replica: chip i of one to chip i of the next replica.
    auto g = comm::MakeGroup(*net_, long(tp_) * pp_, 2);
    if (g.ok()) pair_group_ = g.value();
  }
  moe_layers_ = model::NumMoeLayers(a_);
  dense_layers_ = a_.layers - moe_layers_;
  for (int i = 0; i < a_.layers; ++i) (model::IsSlidingLayer(a_, i) ? sliding_layers_ : full_layers_) += 1;

  // Memory per chip. Weights: everything is split over the tp·pp chips (experts over EP,
  // the rest over TP; EP is carved out of TP). Attention weights are replicated under
  // attention DP.
  const int chips = tp_ * pp_;
  mem_.hbm = op.chip().hbm.capacity;
  mem_.weights = model::WeightBytes(a_, s.weight_dtype) / double(chips);
  if (s.engine.attention_dp && tp_ > 1) {
    const auto c = model::Count(a_);
    mem_.weights += Bytes(c.attention_params * BytesPerElement(s.weight_dtype) * (1.0 - 1.0 / tp_) / pp_);
  }
  // KV per token: K/V heads split over TP (a KV head is replicated when TP > kv_heads);
  // MLA's latent is replicated over TP unless attention DP splits the sequences.
  const Bytes kv_model = model::KvCacheBytesPerToken(a_, s.kv_dtype);
  double kv_share = 1.0;
  if (s.engine.attention_dp)
    kv_share = 1.0 / tp_;
  else if (!model::IsMla(a_))
    kv_share = double(std::max<int64_t>(1, CeilDiv(a_.kv_heads, tp_))) / double(a_.kv_heads);
  mem_.kv_per_token = kv_model * kv_share / double(pp_);
  // Activation workspace for max_tokens tokens: the widest live tensors of one layer
  // (input, QKV, the gated MLP's two halves, its output) plus the FP32 logits of the
  // sampled rows (at most max_batch), in BF16 — what vLLM's profiling run measures.
  const double t = double(s.engine.max_tokens);
  const int64_t ffn = std::max<int64_t>(a_.ffn_hidden, int64_t(a_.moe.expert_ffn_hidden) * std::max(1, a_.moe.top_k));
  const double per_token =
      (3.0 * a_.hidden + double(a_.heads + 2 * a_.kv_heads) * a_.head_dim / tp_ + 3.0 * double(ffn) / tp_) * kActBytes;
  mem_.activations =
      Bytes(t * per_token + double(std::min(s.engine.max_batch, s.engine.max_tokens)) * a_.vocab / tp_ * 4.0);
  const Bytes free = mem_.hbm - mem_.weights - mem_.activations;
  const double kv_bytes = std::max(0.0, free.value()) * s.engine.kv_memory_fraction;
  const int64_t per_chip_tokens = mem_.kv_per_token.value() > 0 ? int64_t(kv_bytes / mem_.kv_per_token.value()) : 0;
  // Whole blocks; every chip of the replica holds its share of each token.
  mem_.kv_tokens = per_chip_tokens / s.engine.kv_block * s.engine.kv_block;
  mem_.fits = mem_.kv_tokens >= s.engine.kv_block;
}

Seconds IterationCostModel::AllReduce(int64_t tokens) {
  if (!tp_group_) return Seconds(0);
  // Serving engines reduce small TP activations with their own few-step kernels inside a
  // server (TensorRT-LLM one-shot/two-shot, vLLM custom all-reduce), not only NCCL's.
  const auto e = comm::EstimateCollective(*net_, *tp_group_, comm::Collective::kAllReduce,
                                          Bytes(double(tokens) * a_.hidden * kActBytes), comm::Algorithm::kAuto,
                                          comm::Issuer::kLibrary, comm::AlgorithmSet::kAll);
  return e.ok ? e.time : Seconds(0);
}

Bytes IterationCostModel::AllReduceSent(int64_t tokens) const {
  if (!tp_group_) return Bytes(0);
  // Ring all-reduce: each chip sends 2(n − 1)/n of the payload.
  return Bytes(double(tokens) * a_.hidden * kActBytes * 2.0 * double(tp_ - 1) / double(tp_));
}

IterationCostModel::Linear IterationCostModel::LinearAt(int64_t tokens) {
  if (size_t(tokens) >= linear_cache_.size()) linear_cache_.resize(size_t(tokens) + 1);
  if (auto& c = linear_cache_[size_t(tokens)]) return *c;
  using ops::MatmulShape;
  const int64_t T = tokens, h = a_.hidden, tp = tp_;
  const DType d = mm_;
  ChipWork acc;  // work of the block being costed
  auto mm = [&](int64_t m, int64_t n, int64_t k, int64_t batch = 1) {
    const ops::MatmulCost c = op_.Matmul(
        MatmulShape{std::max<int64_t>(1, m), std::max<int64_t>(1, n), std::max<int64_t>(1, k), std::max<int64_t>(1, batch)},
        d);
    acc.flops[size_t(d)] += c.flops;
    acc.hbm += c.bytes;
    return c.time;
  };
  auto mem = [&](const ops::MemoryTraffic& t) {
    const ops::MemoryOpCost c = op_.Memory(t);
    acc.flops[size_t(DType::kFp32)] += t.flops;
    acc.hbm += c.bytes;
    return c.time;
  };
  const DType act = DType::kBf16;

  // Attention block without the fused attention itself: norm, projections, rotary,
  // output projection, residual. Under attention DP each chip projects its own tokens
  // with the whole (replicated) attention weights.
  const bool adp = s_.engine.attention_dp && tp > 1;
  const int64_t Ta = adp ? CeilDiv(T, tp) : T;
  const int64_t hsplit = adp ? 1 : tp;
  Seconds attn_block = mem(ops::RmsNorm(Ta, h, act));
  if (model::IsMla(a_)) {
    const auto& m = a_.mla;
    const int64_t heads = CeilDiv(a_.heads, hsplit);
    attn_block += mm(Ta, m.q_lora_rank + m.kv_lora_rank + m.qk_rope_head_dim, h);  // down-projections (replicated)
    if (m.q_lora_rank > 0) attn_block += mm(Ta, heads * (m.qk_nope_head_dim + m.qk_rope_head_dim), m.q_lora_rank);
    // Absorbed decode: q_nope·W_UK and the attention output·W_UV, per head.
    attn_block += mm(Ta, m.kv_lora_rank, m.qk_nope_head_dim, heads) + mm(Ta, m.v_head_dim, m.kv_lora_rank, heads);
    attn_block += mm(Ta, h, heads * m.v_head_dim);
  } else {
    const int64_t heads = CeilDiv(a_.heads, hsplit), kvh = std::max<int64_t>(1, CeilDiv(a_.kv_heads, hsplit));
    attn_block += mm(Ta, (heads + 2 * kvh) * a_.head_dim, h);
    attn_block += mem(ops::Rotary(Ta, heads, kvh, a_.head_dim, act));
    attn_block += mm(Ta, h, heads * a_.head_dim);
  }
  attn_block += mem(ops::Fuse(ops::Add(Ta * h, act), ops::RmsNorm(Ta, h, act), Bytes(double(Ta * h) * kActBytes)));
  attn_block += mem(ops::Add(Ta * h, act));
  const Seconds ar = adp ? Seconds(0) : AllReduce(T);
  const Bytes ar_sent = adp ? Bytes(0) : AllReduceSent(T);
  const ChipWork attn_work = acc;

  Linear out;
  // Dense MLP.
  if (dense_layers_ > 0) {
    const int64_t f = CeilDiv(a_.ffn_hidden, tp);
    const bool gated = model::IsGated(a_.mlp);
    Seconds mlp = mm(T, (gated ? 2 : 1) * f, h) + mm(T, h, f);
    mlp += mem(ops::Activation(gated ? ops::ActivationKind::kSwiGlu : ops::ActivationKind::kGelu, T, f, act));
    out.dense = attn_block + mlp;
    out.comm_dense = ar + (adp ? AllReduce(T) : ar);
    out.work_dense = acc;
    out.work_dense.link += ar_sent + (adp ? AllReduceSent(T) : ar_sent);
  }
  // MoE MLP: router, dispatch, grouped expert GEMMs over the experts that receive tokens,
  // shared experts, combine.
  if (moe_layers_ > 0) {
    const auto& moe = a_.moe;
    const int64_t E = moe.num_experts, k = moe.top_k;
    const int64_t ep = std::min<int64_t>(ep_, E);
    const int64_t etp = std::max<int64_t>(1, tp / ep);  // expert tensor parallel inside the replica
    const int64_t local = std::max<int64_t>(1, E / ep);
    const double slots = double(T) * double(k) / double(ep);  // token-expert pairs on this chip
    // Experts hit by at least one of the T tokens (each picks k of E; uniform routing).
    const double p_hit = 1.0 - std::pow(1.0 - double(k) / double(E), double(T));
    const int64_t active = std::max<int64_t>(1, std::min<int64_t>(local, int64_t(std::ceil(double(local) * p_hit))));
    const int64_t m_per = std::max<int64_t>(1, int64_t(std::ceil(slots / double(active))));
    const int64_t f = CeilDiv(moe.expert_ffn_hidden, etp);
    acc = attn_work;
    Seconds mlp = mm(T, E, h) + mem(ops::MoeRouting(T, E, k));
    mlp += mm(m_per, 2 * f, h, active) + mm(m_per, h, f, active);
    mlp += mem(ops::Activation(ops::ActivationKind::kSwiGlu, int64_t(slots), f, act));
    mlp += 2 * mem(ops::MoePermute(CeilDiv(T, ep), k, h, act));
    if (moe.num_shared_experts > 0) {
      const int64_t sf = CeilDiv(int64_t(moe.shared_expert_ffn_hidden) * moe.num_shared_experts, tp);
      mlp += mm(T, 2 * sf, h) + mm(T, h, sf);
    }
    Seconds comm = ar;
    Bytes sent = ar_sent;
    // Under attention DP each chip holds its own tokens: they are dispatched to the experts'
    // chips and combined back (TensorRT-LLM gathers them and reduce-scatters the outputs,
    // the same volume for top_k = EP). Without it the TP group's tokens are already on every
    // chip (EP is carved out of TP): each chip runs its experts on all of them and the
    // outputs are summed by an all-reduce, as for a dense MLP.
    if (ep_group_ && (adp || tp == 1)) {
      comm::MoeExchange x;
      x.tokens = long(CeilDiv(T, ep));
      x.hidden = h;
      x.top_k = int(k);
      x.bytes_per_element = BytesPerElement(d) < 2 ? 1.0 + 4.0 / 128.0 : 2.0;
      comm += 2 * comm::EstimateMoeExchange(*net_, *ep_group_, x).time;  // dispatch + combine
      // Each of dispatch and combine sends the (ep − 1)/ep of the token copies routed off-chip.
      sent += Bytes(2.0 * double(x.tokens) * double(k) * double(h) * x.bytes_per_element * double(ep_ - 1) / double(ep_));
    } else if (tp > 1) {
      comm += AllReduce(T);
      sent += AllReduceSent(T);
    }
    out.moe = attn_block + mlp;
    out.comm_moe = comm;
    out.work_moe = acc;
    out.work_moe.link += sent;
  }
  linear_cache_[size_t(tokens)] = out;
  return out;
}

IterationCostModel::Timed IterationCostModel::AttentionAt(int64_t batch, int64_t q_len, int64_t kv_len, bool sliding,
                                                          bool decode) {
  const uint64_t key = (uint64_t(batch) << 40) ^ (uint64_t(q_len) << 20) ^ uint64_t(kv_len) ^
                       (sliding ? 1ull << 63 : 0) ^ (decode ? 1ull << 62 : 0);
  auto it = attn_cache_.find(key);
  if (it != attn_cache_.end()) return it->second;
  ops::AttentionShape s;
  const bool adp = s_.engine.attention_dp && tp_ > 1;
  s.batch = adp ? CeilDiv(batch, tp_) : batch;
  s.heads = a_.heads;
  s.kv_heads = a_.kv_heads;
  s.head_dim = a_.head_dim;
  s.q_len = q_len;
  s.kv_len = kv_len;
  s.causal = true;
  s.window = sliding ? a_.sliding.window : 0;
  s.dtype = s_.attention_dtype;
  s.kv_dtype = s_.kv_dtype;
  s.heads_split = adp ? 1 : tp_;
  if (model::IsMla(a_)) {
    s.mla = decode ? ops::MlaMode::kAbsorbed : ops::MlaMode::kNaive;
    s.head_dim = a_.mla.qk_nope_head_dim + a_.mla.qk_rope_head_dim;
    s.v_head_dim = a_.mla.v_head_dim;
    s.kv_heads = a_.heads;
    s.kv_lora_rank = a_.mla.kv_lora_rank;
    s.rope_dim = a_.mla.qk_rope_head_dim;
  }
  const ops::AttentionCost c = op_.Attention(s);
  Timed t;
  t.time = c.time;
  t.work.flops[size_t(s.dtype)] = c.flops;
  t.work.hbm = c.bytes;
  attn_cache_.emplace(key, t);
  return t;
}

IterationCostModel::Timed IterationCostModel::LmHead(int64_t rows) {
  if (rows <= 0) return Timed{Seconds(0), {}};
  if (size_t(rows) >= lm_cache_.size()) lm_cache_.resize(size_t(rows) + 1);
  Timed& c = lm_cache_[size_t(rows)];
  if (c.time.value() >= 0) return c;
  const ops::MatmulCost m = op_.Matmul(ops::MatmulShape{rows, CeilDiv(a_.vocab, tp_), a_.hidden, 1}, mm_);
  const ops::MemoryTraffic norm = ops::RmsNorm(rows, a_.hidden, DType::kBf16);
  const ops::MemoryOpCost n = op_.Memory(norm);
  c.time = m.time + n.time;
  c.work = {};
  c.work.flops[size_t(mm_)] += m.flops;
  c.work.flops[size_t(DType::kFp32)] += norm.flops;
  c.work.hbm = m.bytes + n.bytes;
  return c;
}

IterationCostModel::Timed IterationCostModel::DraftPass(int64_t seqs, int64_t context) {
  // One MTP module per proposed token: `draft_layers` layers of the model's last kind at
  // `seqs` tokens (their linears, collectives and decode attention) and the output head.
  const Linear l = LinearAt(seqs);
  const bool moe = moe_layers_ > 0;
  const Timed at = AttentionAt(seqs, 1, context, false, true);
  const double n = double(s_.speculative.draft_layers);
  Timed t;
  t.time = ((moe ? l.moe + l.comm_moe : l.dense + l.comm_dense) + at.time) * n;
  t.work = (moe ? l.work_moe : l.work_dense) * n;
  t.work += at.work * n;
  const Timed head = LmHead(seqs);
  t.time += head.time;
  t.work += head.work;
  return t;
}

IterationBreakdown IterationCostModel::Breakdown(const IterationWork& w) {
  IterationBreakdown b;
  // Speculative decoding: every decoding sequence verifies 1 + k tokens in this pass.
  const int64_t k = s_.speculative.draft_tokens;
  const int64_t verify = 1 + k;
  int64_t tokens = w.decode_seqs * verify;
  for (int i = 0; i < w.chunk_count; ++i) tokens += w.chunks[i].tokens;
  if (tokens <= 0) return b;
  // Token-parallel work at tokens / pp per micro-batch, over all layers.
  const int64_t mb = CeilDiv(tokens, pp_);
  const Linear l = LinearAt(mb);
  b.linear = l.dense * double(dense_layers_) + l.moe * double(moe_layers_);
  b.communication = l.comm_dense * double(dense_layers_) + l.comm_moe * double(moe_layers_);
  // Work scales as the time does: pp micro-batches of tokens / pp through layers / pp.
  b.work = l.work_dense * double(dense_layers_);
  b.work += l.work_moe * double(moe_layers_);
  // Attention: every stage attends every sequence once for its layers.
  const double per_stage = 1.0 / double(pp_);
  Seconds attn;
  ChipWork attn_work, prefill_work;
  auto add = [&](int64_t batch, int64_t q, int64_t kv, bool decode) {
    if (full_layers_ > 0) {
      const Timed t = AttentionAt(batch, q, kv, false, decode);
      attn += t.time * double(full_layers_);
      attn_work += t.work * double(full_layers_);
    }
    if (sliding_layers_ > 0) {
      const Timed t = AttentionAt(batch, q, kv, true, decode);
      attn += t.time * double(sliding_layers_);
      attn_work += t.work * double(sliding_layers_);
    }
  };
  // Decodes attend their context plus the k positions being verified.
  const int64_t context = ContextBucket(std::max<int64_t>(1, std::llround(w.decode_context)) + k);
  if (w.decode_seqs > 0) add(w.decode_seqs, verify, context, true);
  const ChipWork decode_work = attn_work;
  Seconds prefill, longest;
  for (int i = 0; i < w.chunk_count; ++i) {
    const Chunk& c = w.chunks[i];
    const Seconds before = attn;
    add(1, ContextBucket(c.tokens), ContextBucket(c.prior + c.tokens), false);
    longest = Max(longest, attn - before);
    prefill += attn - before;
  }
  // Under attention DP each chip attends its own sequences: the prompt chunks spread over
  // the TP group (balanced), but one chunk is never split.
  if (s_.engine.attention_dp && tp_ > 1) {
    attn = attn - prefill + Max(prefill / double(tp_), longest);
    prefill_work = attn_work;
    for (size_t i = 0; i < prefill_work.flops.size(); ++i) prefill_work.flops[i] -= decode_work.flops[i];
    prefill_work.hbm -= decode_work.hbm;
    attn_work = decode_work;
    attn_work += prefill_work * (1.0 / double(tp_));
  }
  b.attention = attn * per_stage;
  b.work += attn_work * per_stage;
  // The output head scores every verified position of a decoding sequence.
  const Timed head = LmHead(CeilDiv(std::max<int64_t>(w.logits_rows + w.decode_seqs * k, 1), pp_));
  b.linear += head.time * double(pp_) * per_stage;
  b.work += head.work * (double(pp_) * per_stage);
  if (k > 0 && w.decode_seqs > 0) {
    const Timed d = DraftPass(w.decode_seqs, context);
    b.draft = d.time * double(k);
    b.work += d.work * double(k);
  }
  b.host = s_.host_overhead;
  b.total = b.linear + b.attention + b.communication + b.draft + b.host;
  return b;
}

Seconds IterationCostModel::KvTransfer(int64_t tokens) const {
  const Bytes per_chip = mem_.kv_per_token * double(tokens);
  if (pair_group_) {
    const auto e = comm::EstimateCollective(*net_, *pair_group_, comm::Collective::kSendRecv, per_chip);
    if (e.ok) return e.time;
  }
  const BytesPerSec bw =
      op_.chip().scale_out.bandwidth.value() > 0 ? op_.chip().scale_out.bandwidth : op_.chip().scale_up.bandwidth;
  return bw.value() > 0 ? per_chip / bw : Seconds(0);
}

}  // namespace pf::serve
