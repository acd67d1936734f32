// Byte counts of the memory-bound operators, and their pricing in OpModel::Memory.
#include "pathfinder/ops/memory_ops.h"

#include "pathfinder/core/check.h"

namespace pf::ops {
namespace {
Bytes B(double elements, DType t) { return Bytes(elements * BytesPerElement(t)); }
constexpr double kFp32 = 4.0;
}  // namespace

MemoryTraffic RmsNorm(int64_t tokens, int64_t hidden, DType dtype, bool backward) {
  const double e = double(tokens) * double(hidden);
  MemoryTraffic t;
  t.read = B(e * (backward ? 2 : 1) + double(hidden), dtype);
  t.written = B(e, dtype);
  t.flops = Flops(e * (backward ? 8 : 4));
  return t;
}

MemoryTraffic LayerNorm(int64_t tokens, int64_t hidden, DType dtype, bool backward) {
  MemoryTraffic t = RmsNorm(tokens, hidden, dtype, backward);
  t.read += B(double(hidden), dtype);  // β
  t.flops = t.flops * 1.5;
  return t;
}

MemoryTraffic Activation(ActivationKind kind, int64_t tokens, int64_t width, DType dtype, bool backward) {
  const double e = double(tokens) * double(width);
  const bool gated = kind == ActivationKind::kSwiGlu || kind == ActivationKind::kGeGlu;
  const double inputs = gated ? 2 : 1;
  MemoryTraffic t;
  t.read = B(e * (inputs + (backward ? 1 : 0)), dtype);
  t.written = B(e * (backward ? inputs : 1), dtype);
  t.flops = Flops(e * 8);
  return t;
}

MemoryTraffic Softmax(int64_t rows, int64_t cols, DType dtype, bool backward) {
  const double e = double(rows) * double(cols);
  MemoryTraffic t;
  t.read = B(e * (backward ? 2 : 1), dtype);
  t.written = B(e, dtype);
  t.flops = Flops(e * 5);
  return t;
}

MemoryTraffic Rotary(int64_t tokens, int64_t q_heads, int64_t kv_heads, int64_t head_dim, DType dtype) {
  const double e = double(tokens) * double(q_heads + kv_heads) * double(head_dim);
  MemoryTraffic t;
  t.read = B(e, dtype);
  t.written = B(e, dtype);
  t.flops = Flops(e * 3);
  return t;
}

MemoryTraffic Add(int64_t elements, DType dtype) {
  MemoryTraffic t;
  t.read = B(2.0 * double(elements), dtype);
  t.written = B(double(elements), dtype);
  t.flops = Flops(double(elements));
  return t;
}

MemoryTraffic Dropout(int64_t elements, DType dtype) {
  MemoryTraffic t;
  t.read = B(double(elements), dtype);
  t.written = B(double(elements), dtype) + Bytes(double(elements));
  t.flops = Flops(2.0 * double(elements));
  return t;
}

MemoryTraffic BiasAdd(int64_t elements, DType dtype) {
  MemoryTraffic t;
  t.read = B(double(elements), dtype);
  t.written = B(double(elements), dtype);
  t.flops = Flops(double(elements));
  return t;
}

MemoryTraffic EmbeddingGather(int64_t tokens, int64_t hidden, DType dtype) {
  const double e = double(tokens) * double(hidden);
  MemoryTraffic t;
  t.read = B(e, dtype) + Bytes(double(tokens) * 8.0);  // int64 token ids
  t.written = B(e, dtype);
  return t;
}

MemoryTraffic CrossEntropy(int64_t tokens, int64_t vocab, DType logits_dtype) {
  const double e = double(tokens) * double(vocab);
  MemoryTraffic t;
  t.read = B(e, logits_dtype);
  t.written = B(e, logits_dtype);
  t.flops = Flops(e * 6);
  return t;
}

MemoryTraffic AdamStep(int64_t params, DType weight_dtype, DType grad_dtype) {
  const double p = double(params);
  MemoryTraffic t;
  t.read = Bytes(p * 3 * kFp32) + B(p, grad_dtype);                        // master, m, v, grad
  t.written = Bytes(p * 3 * kFp32) + (BytesPerElement(weight_dtype) < kFp32 ? B(p, weight_dtype) : Bytes(0));
  t.flops = Flops(p * 14);
  return t;
}

MemoryTraffic MoeRouting(int64_t tokens, int64_t experts, int64_t top_k) {
  const double logits = double(tokens) * double(experts);
  MemoryTraffic t;
  t.read = Bytes(logits * kFp32);
  t.written = Bytes(double(tokens) * double(top_k) * (4.0 + kFp32));  // int32 index + fp32 weight
  t.flops = Flops(logits * 6);
  return t;
}

MemoryTraffic MoePermute(int64_t tokens, int64_t top_k, int64_t hidden, DType dtype) {
  MemoryTraffic t;
  t.read = B(double(tokens) * double(hidden), dtype) + Bytes(double(tokens) * double(top_k) * 4.0);
  t.written = B(double(tokens) * double(top_k) * double(hidden), dtype);
  return t;
}

MemoryTraffic Fuse(const MemoryTraffic& a, const MemoryTraffic& b, Bytes intermediate) {
  PF_CHECK(intermediate <= a.written && intermediate <= b.read, "fused intermediate larger than the traffic it removes");
  MemoryTraffic t;
  t.read = a.read + b.read - intermediate;
  t.written = a.written + b.written - intermediate;
  t.flops = a.flops + b.flops;
  t.kernels = 1;
  return t;
}

MemoryTraffic operator+(const MemoryTraffic& a, const MemoryTraffic& b) {
  MemoryTraffic t;
  t.read = a.read + b.read;
  t.written = a.written + b.written;
  t.flops = a.flops + b.flops;
  t.kernels = a.kernels + b.kernels;
  return t;
}

MemoryOpCost OpModel::Memory(const MemoryTraffic& t, Fidelity f) const {
  MemoryOpCost r;
  r.bytes = t.read + t.written;
  if (f == Fidelity::kRoofline) {
    r.memory_time = r.bytes / chip_.hbm.bandwidth;
    r.time = r.memory_time;
  } else {
    r.memory_time = r.bytes / ceil_.hbm;
    r.overhead = ceil_.kernel_overhead * double(t.kernels);
    r.time = r.overhead + r.memory_time;
    r.bound = r.overhead > r.memory_time ? Bound::kLatency : Bound::kMemory;
  }
  r.achieved_bandwidth = r.time.value() > 0 ? r.bytes / r.time : BytesPerSec(0);
  return r;
}

}  // namespace pf::ops
