// ops/memory_ops: the bytes moved by memory-bound operators — norms, activations, softmax,
// rotary embedding, residual adds, embedding gather, cross-entropy, the Adam step, MoE
// routing and permutation — for OpModel::Memory, which prices them at the achievable HBM
// bandwidth plus one kernel overhead per launch. Fuse() merges kernels the way frameworks
// do (Megatron/Apex fused add+norm, fused SwiGLU, fused cross-entropy), dropping the
// intermediate tensor's write and re-read.
//
// Counts are elements × bytes per element of the stored dtype; small per-row statistics
// (norm means, softmax max/sum) are ignored (≤ 1/hidden of the traffic).
#pragma once

#include <cstdint>

#include "pathfinder/core/dtype.h"
#include "pathfinder/ops/op_model.h"

namespace pf::ops {

enum class ActivationKind { kGelu, kRelu, kSilu, kSwiGlu, kGeGlu };

// y = norm(x)·γ over `hidden`: reads x and γ, writes y. Backward reads x, γ, dy; writes dx
// (and dγ, negligible).
MemoryTraffic RmsNorm(int64_t tokens, int64_t hidden, DType dtype, bool backward = false);
MemoryTraffic LayerNorm(int64_t tokens, int64_t hidden, DType dtype, bool backward = false);
// `width` is the output width (ffn_hidden). Gated kinds read two inputs of that width.
// Backward reads the input(s) and dy, writes dx.
MemoryTraffic Activation(ActivationKind kind, int64_t tokens, int64_t width, DType dtype, bool backward = false);
// Row softmax of a rows × cols matrix (unfused attention, router): read + write; backward
// reads y and dy, writes dx.
MemoryTraffic Softmax(int64_t rows, int64_t cols, DType dtype, bool backward = false);
// Rotary position embedding applied to q and k in place: reads and writes them.
MemoryTraffic Rotary(int64_t tokens, int64_t q_heads, int64_t kv_heads, int64_t head_dim, DType dtype);
// out = a + b (residual). `elements` values.
MemoryTraffic Add(int64_t elements, DType dtype);
// Dropout: reads x, writes y and a 1-byte mask (PyTorch fused dropout stores a bool mask).
MemoryTraffic Dropout(int64_t elements, DType dtype);
// Bias add (elementwise, bias read negligible).
MemoryTraffic BiasAdd(int64_t elements, DType dtype);
// Gathers `tokens` rows of the embedding table (reads only the rows used), writes them.
MemoryTraffic EmbeddingGather(int64_t tokens, int64_t hidden, DType dtype);
// Fused softmax cross-entropy forward+backward over the logits (Megatron vocab-parallel
// CE): reads the logits, writes their gradient in place.
MemoryTraffic CrossEntropy(int64_t tokens, int64_t vocab, DType logits_dtype);
// One Adam(W) step with mixed precision per parameter: reads fp32 master weight, m, v and
// the gradient (grad_dtype), writes master, m, v and the working-precision weight
// (Micikevicius et al. 2018; apex/TE fused Adam). `params` on this chip.
MemoryTraffic AdamStep(int64_t params, DType weight_dtype, DType grad_dtype);
// Router: logits tokens × experts (fp32), softmax + top-k; writes indices and weights.
MemoryTraffic MoeRouting(int64_t tokens, int64_t experts, int64_t top_k);
// Permute (or un-permute) tokens to their experts: reads tokens × hidden, writes
// tokens × top_k × hidden (the reverse for un-permute; same bytes).
MemoryTraffic MoePermute(int64_t tokens, int64_t top_k, int64_t hidden, DType dtype);

// One fused kernel doing `a` then `b`, where `intermediate` bytes that `a` wrote and `b`
// read stay on chip. REQUIRES: intermediate ≤ a.written and ≤ b.read.
MemoryTraffic Fuse(const MemoryTraffic& a, const MemoryTraffic& b, Bytes intermediate);

// Sum of separate kernels (traffic and launches add).
MemoryTraffic operator+(const MemoryTraffic& a, const MemoryTraffic& b);

}  // namespace pf::ops
