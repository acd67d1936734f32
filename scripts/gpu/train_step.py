#!/usr/bin/env python3
"""One GPU's full training step of Llama-, MPT- and MoE-shaped models, timed and power-metered.

What the training simulator predicts for a single chip (tp = pp = dp = 1): forward and
backward of every layer, embedding, LM head and cross-entropy loss, and the optimizer step,
plus the board's power while it runs. The models are written out here (no library model
code) so the operator mix is known exactly:
  * Llama layer: RMSNorm (F.rms_norm), fused QKV projection, RoPE (rotate-half, eager),
    causal GQA attention through scaled_dot_product_attention (PyTorch's choice of fused
    backend, recorded from the profiler), output projection, RMSNorm, SwiGLU MLP (gate and
    up in one matmul), no biases; untied input embedding and LM head.
  * MoE slices (MOE_CONFIGS): a few layers of Qwen3-30B-A3B, Mixtral 8x7B or Qwen3-235B-A22B
    with a dropless MoE MLP (MoeLayer: router, permute, grouped GEMMs, unpermute).
  * FP8 (configs ending in -fp8): every linear of the layers through Fp8Matmul (e4m3,
    per-tensor current scaling, torch._scaled_mm); the LM head stays bf16.
  * Precision: float32 parameters, bf16 autocast (the standard PyTorch recipe), fused
    AdamW (fp32 states); loss F.cross_entropy over the whole vocabulary.
  * Recompute: none, or full (torch.utils.checkpoint around every layer, non-reentrant).
  * Mode: eager, or the forward and loss compiled with torch.compile (default options;
    the backward is then compiled too, by AOTAutograd).
Data: a fresh batch of random tokens every step (loss stays near ln(vocab)).
Timing: WARMUP steps, then STEPS steps between CUDA events, synchronized at the end; tokens
per second = tokens per step × steps / elapsed. Power: the board's NVML energy counter over
the same steps; SM clock and temperature from NVML after every step. A torch.profiler table
of one step (CUDA time per kernel) is kept per configuration.

Output: JSON lines in $OUT/train.jsonl, profiler tables in $OUT/train_profile.txt.
Usage: python3 scripts/gpu/train_step.py [--out DIR] [--configs a,b] [--compile] [--check]
(--check first compares Permute/Unpermute and Fp8Matmul with reference products.)
"""
import argparse
import json
import os
import time

import pynvml
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.checkpoint import checkpoint

ap = argparse.ArgumentParser()
ap.add_argument("--out", default=os.environ.get("OUT", "out"))
ap.add_argument("--configs", default="llama1b,llama8b-8l,llama1b-full")
ap.add_argument("--compile", action="store_true")
ap.add_argument("--warmup", type=int, default=4)
ap.add_argument("--steps", type=int, default=12)
ap.add_argument("--check", action="store_true", help="check Permute/Unpermute and Fp8Matmul against reference products first")
ap.add_argument("--side-spin", default="", help="comma-separated CTA counts: also time the steps beside a side kernel "
                "of that many CTAs on a second stream (a stand-in for an overlapped collective; overlap2.py)")
ap.add_argument("--side-kind", default="copy", choices=("spin", "copy"),
                help="the side kernel: register arithmetic only (spin) or a 256 MiB bf16 copy again and again (copy)")
args = ap.parse_args()
os.makedirs(args.out, exist_ok=True)
log = open(os.path.join(args.out, "train.jsonl"), "a")
prof_txt = os.path.join(args.out, "train_profile.txt")
pynvml.nvmlInit()
nv = pynvml.nvmlDeviceGetHandleByIndex(0)

# name: (layers, hidden, heads, kv_heads, ffn, vocab, seq, micro_batch, recompute)
# llama1b: Llama 3.2 1B's shape (Meta, config.json) with untied embeddings;
# llama8b-8l: Llama 3 8B's layer shape, 8 of its 32 layers, its vocabulary;
# mpt1b: MPT-1B's shape (mosaicml/mpt-1b-redpajama-200b config: 24 layers, d_model 2048,
#   16 heads, expansion 4, vocab 50368, sequence 2048), untied; mpt7b-8l: 8 of MPT-7B's 32
#   layers (d_model 4096, 32 heads, expansion 4, vocab 50432). MPT layers: LayerNorm without
#   bias, fused QKV, GELU MLP, no biases; ALiBi is left out (SDPA's fused kernels take no
#   bias), so attention is plain causal.
CONFIGS = {
    "llama1b": (16, 2048, 32, 8, 8192, 128256, 4096, 2, "none"),
    "llama1b-full": (16, 2048, 32, 8, 8192, 128256, 4096, 2, "full"),
    "llama8b-8l": (8, 4096, 32, 8, 14336, 128256, 4096, 1, "none"),
    "llama8b-8l-full": (8, 4096, 32, 8, 14336, 128256, 4096, 1, "full"),
    "mpt1b": (24, 2048, 16, 16, 8192, 50368, 2048, 4, "none"),
    "mpt7b-8l": (8, 4096, 32, 32, 16384, 50432, 2048, 2, "none"),
    # The same layers with every linear of the transformer layers in FP8 (Fp8Linear below);
    # the LM head stays bf16, as Transformer Engine / Megatron-Core leave it.
    "llama1b-fp8": (16, 2048, 32, 8, 8192, 128256, 4096, 2, "none"),
    "llama8b-8l-fp8": (8, 4096, 32, 8, 14336, 128256, 4096, 1, "none"),
    "mpt7b-8l-fp8": (8, 4096, 32, 32, 16384, 50432, 2048, 2, "none"),
}
# MoE slices (every layer MoE, untied embeddings, no shared experts), from each model's
# config.json: name: (layers, hidden, heads, kv_heads, head_dim, experts, top_k, expert_ffn,
# vocab, seq, micro_batch, qk_norm).
# qwen3moe-4l: 4 of Qwen3-30B-A3B's 48 layers (hidden 2048, 32/4 heads of 128, QK-norm,
#   128 experts, top-8, expert ffn 768, vocab 151936); mixtral-2l: 2 of Mixtral 8x7B's 32
#   layers (hidden 4096, 32/8 heads of 128, 8 experts, top-2, expert ffn 14336, vocab 32000);
#   qwen3moe235-1l: 1 of Qwen3-235B-A22B's 94 layers (hidden 4096, 64/4 heads of 128,
#   QK-norm, 128 experts, top-8, expert ffn 1536, vocab 151936).
MOE_CONFIGS = {
    "qwen3moe-4l": (4, 2048, 32, 4, 128, 128, 8, 768, 151936, 4096, 4, True),
    "mixtral-2l": (2, 4096, 32, 8, 128, 8, 2, 14336, 32000, 4096, 2, False),
    "qwen3moe235-1l": (1, 4096, 64, 4, 128, 128, 8, 1536, 151936, 4096, 2, True),
}


class Permute(torch.autograd.Function):
    """Token copies gathered into expert order: out[i] = x[order[i] // k]. The backward
    gathers the gradient back into token-major order and sums each token's k copies, with
    no atomics (as Megatron-Core's fused moe_permute / moe_unpermute pair does); autograd's
    own backward of index_select would scatter-add with atomics instead."""

    @staticmethod
    def forward(ctx, x, order, inv, k):
        ctx.save_for_backward(inv)
        ctx.k = k
        return x.index_select(0, order // k)

    @staticmethod
    def backward(ctx, g):
        (inv,) = ctx.saved_tensors
        return g.index_select(0, inv).view(inv.numel() // ctx.k, ctx.k, -1).sum(1), None, None, None


class Unpermute(torch.autograd.Function):
    """Expert outputs back to token order, each copy scaled by its routing weight and the
    token's k copies summed: out[t] = sum_c w[t, c] · y[inv[t·k + c]]. Gathers only, forward
    and backward; y and w are kept, the gathered copy is redone in the backward."""

    @staticmethod
    def forward(ctx, y, w, order, inv):
        t, k = w.shape
        ctx.save_for_backward(y, w, order, inv)
        return (y.index_select(0, inv).view(t, k, -1) * w.unsqueeze(-1).to(y.dtype)).sum(1)

    @staticmethod
    def backward(ctx, g):
        y, w, order, inv = ctx.saved_tensors
        t, k = w.shape
        gy = g.index_select(0, order // k) * w.flatten().index_select(0, order).unsqueeze(1).to(g.dtype)
        acc = torch.promote_types(y.dtype, torch.float32)  # the weights' gradient summed in fp32 or wider
        gw = (y.index_select(0, inv).view(t, k, -1).to(acc) * g.unsqueeze(1).to(acc)).sum(-1)
        return gy, gw.to(w.dtype), None, None


def rope_tables(seq, hd, device):
    inv = 1.0 / (500000.0 ** (torch.arange(0, hd, 2, device=device, dtype=torch.float32) / hd))
    ang = torch.outer(torch.arange(seq, device=device, dtype=torch.float32), inv)
    emb = torch.cat([ang, ang], -1)
    return emb.cos().to(torch.bfloat16), emb.sin().to(torch.bfloat16)


def rope(x, cos, sin):
    h = x.shape[-1] // 2
    rot = torch.cat([-x[..., h:], x[..., :h]], -1)
    return x * cos + rot * sin


E4M3_MAX = 448.0


def to_fp8(x):
    """Per-tensor current scaling (Transformer Engine Float8CurrentScalingQuantizer): amax of
    the tensor, scale = 448 / amax, cast to e4m3; also the transposed copy the other GEMM of
    the pair needs (Hopper's FP8 GEMMs take A row-major and B column-major only). Returns
    (fp8, fp8 transposed, inverse scale)."""
    amax = x.abs().amax().float().clamp(min=1e-12)
    scale = E4M3_MAX / amax
    q = (x.float() * scale).to(torch.float8_e4m3fn)
    return q, q.t().contiguous(), scale.reciprocal()


class Fp8Matmul(torch.autograd.Function):
    """y = x · wᵀ with x, w and the output gradient in FP8 (e4m3, per-tensor current
    scaling, all three GEMMs through torch._scaled_mm): forward x8 · w8ᵀ, dgrad g8 · w8,
    wgrad g8ᵀ · x8. Every tensor is cast with its transposed copy, as TE does on Hopper."""

    @staticmethod
    def forward(ctx, x, w):
        x8, x8t, sx = to_fp8(x.to(torch.bfloat16))
        w8, w8t, sw = to_fp8(w)
        ctx.save_for_backward(x8t, w8t, sx, sw)
        ctx.w_dtype = w.dtype
        return torch._scaled_mm(x8, w8.t(), scale_a=sx, scale_b=sw, out_dtype=torch.bfloat16)

    @staticmethod
    def backward(ctx, g):
        x8t, w8t, sx, sw = ctx.saved_tensors
        g8, g8t, sg = to_fp8(g.to(torch.bfloat16))
        dx = torch._scaled_mm(g8, w8t.t(), scale_a=sg, scale_b=sw, out_dtype=torch.bfloat16)
        dw = torch._scaled_mm(g8t, x8t.t(), scale_a=sg, scale_b=sx, out_dtype=torch.float32)
        return dx, dw.to(ctx.w_dtype)


class Fp8Linear(nn.Linear):
    def forward(self, x):
        shape = x.shape
        return Fp8Matmul.apply(x.reshape(-1, shape[-1]), self.weight).view(*shape[:-1], -1)


class Layer(nn.Module):
    def __init__(self, h, nh, nkv, ffn, fp8=False):
        super().__init__()
        lin = Fp8Linear if fp8 else nn.Linear
        self.nh, self.nkv, self.hd = nh, nkv, h // nh
        self.n1 = nn.RMSNorm(h, eps=1e-5)
        self.qkv = lin(h, (nh + 2 * nkv) * self.hd, bias=False)
        self.o = lin(nh * self.hd, h, bias=False)
        self.n2 = nn.RMSNorm(h, eps=1e-5)
        self.gu = lin(h, 2 * ffn, bias=False)
        self.down = lin(ffn, h, bias=False)

    def forward(self, x, cos, sin):
        b, s, _ = x.shape
        q, k, v = self.qkv(self.n1(x)).split([self.nh * self.hd, self.nkv * self.hd, self.nkv * self.hd], -1)
        q = rope(q.view(b, s, self.nh, self.hd).transpose(1, 2), cos, sin)
        k = rope(k.view(b, s, self.nkv, self.hd).transpose(1, 2), cos, sin)
        v = v.view(b, s, self.nkv, self.hd).transpose(1, 2)
        a = F.scaled_dot_product_attention(q, k, v, is_causal=True, enable_gqa=True)
        x = x + self.o(a.transpose(1, 2).reshape(b, s, -1))
        gate, up = self.gu(self.n2(x)).chunk(2, -1)
        return x + self.down(F.silu(gate) * up)


class MptLayer(nn.Module):
    def __init__(self, h, nh, nkv, ffn, fp8=False):
        super().__init__()
        lin = Fp8Linear if fp8 else nn.Linear
        self.nh, self.hd = nh, h // nh
        self.n1 = nn.LayerNorm(h, bias=False)
        self.qkv = lin(h, 3 * h, bias=False)
        self.o = lin(h, h, bias=False)
        self.n2 = nn.LayerNorm(h, bias=False)
        self.up = lin(h, ffn, bias=False)
        self.down = lin(ffn, h, bias=False)

    def forward(self, x, cos, sin):
        b, s, h = x.shape
        q, k, v = self.qkv(self.n1(x)).view(b, s, 3, self.nh, self.hd).permute(2, 0, 3, 1, 4)
        a = F.scaled_dot_product_attention(q, k, v, is_causal=True)
        x = x + self.o(a.transpose(1, 2).reshape(b, s, h))
        return x + self.down(F.gelu(self.up(self.n2(x))))


class MoeLayer(nn.Module):
    """Attention as in Layer (plus Qwen3's QK-norm) and a dropless MoE MLP written the way
    Megatron-Core's all-to-all dispatcher runs it on one rank: router matmul, softmax in
    fp32, top-k, permute (tokens gathered into expert order), one grouped GEMM for gate+up
    and one for down (torch._grouped_mm, bf16), SwiGLU, unpermute (rows scaled by their
    routing weight, each token's copies summed). Routing is Megatron's force-balanced benchmark
    mode (moe_router_force_load_balancing: top-k of random scores, so every expert gets
    about T·k/E tokens); the weights still come from the router's softmax, so the router
    gets gradients. Permute and unpermute gather only (the two Functions above)."""

    def __init__(self, h, nh, nkv, hd, experts, topk, effn, qk_norm):
        super().__init__()
        self.nh, self.nkv, self.hd, self.e, self.k = nh, nkv, hd, experts, topk
        self.n1 = nn.RMSNorm(h, eps=1e-6)
        self.qkv = nn.Linear(h, (nh + 2 * nkv) * hd, bias=False)
        self.qn = nn.RMSNorm(hd, eps=1e-6) if qk_norm else None
        self.kn = nn.RMSNorm(hd, eps=1e-6) if qk_norm else None
        self.o = nn.Linear(nh * hd, h, bias=False)
        self.n2 = nn.RMSNorm(h, eps=1e-6)
        self.router = nn.Linear(h, experts, bias=False)
        # [E, out, in], passed transposed, as torchtitan and microbench.py call _grouped_mm.
        self.w1 = nn.Parameter(torch.randn(experts, 2 * effn, h) * h ** -0.5)
        self.w2 = nn.Parameter(torch.randn(experts, h, effn) * effn ** -0.5)

    def moe(self, x):
        # RMSNorm with fp32 weights returns fp32 under autocast; the grouped GEMMs take bf16
        # (autocast casts a Linear's input the same way).
        x = x.to(torch.bfloat16)
        probs = self.router(x).float().softmax(-1)
        idx = torch.randn_like(probs).topk(self.k, -1).indices
        w = probs.gather(1, idx)
        w = w / w.sum(-1, keepdim=True)
        flat = idx.flatten()
        order = flat.argsort(stable=True)
        inv = torch.empty_like(order).scatter_(0, order, torch.arange(order.numel(), device=x.device))
        counts = torch.zeros(self.e, device=x.device, dtype=torch.int32).scatter_add_(
            0, flat, torch.ones_like(flat, dtype=torch.int32))
        offs = counts.cumsum(0, dtype=torch.int32)
        xs = Permute.apply(x, order, inv, self.k)
        g, u = torch._grouped_mm(xs, self.w1.to(torch.bfloat16).transpose(-2, -1), offs=offs).chunk(2, -1)
        y = torch._grouped_mm(F.silu(g) * u, self.w2.to(torch.bfloat16).transpose(-2, -1), offs=offs)
        return Unpermute.apply(y, w, order, inv)

    def forward(self, x, cos, sin):
        b, s, h = x.shape
        q, k, v = self.qkv(self.n1(x)).split([self.nh * self.hd, self.nkv * self.hd, self.nkv * self.hd], -1)
        q, k = q.view(b, s, self.nh, self.hd), k.view(b, s, self.nkv, self.hd)
        if self.qn is not None:
            q, k = self.qn(q), self.kn(k)
        q, k = rope(q.transpose(1, 2), cos, sin), rope(k.transpose(1, 2), cos, sin)
        v = v.view(b, s, self.nkv, self.hd).transpose(1, 2)
        a = F.scaled_dot_product_attention(q, k, v, is_causal=True, enable_gqa=True)
        x = x + self.o(a.transpose(1, 2).reshape(b, s, -1))
        return x + self.moe(self.n2(x).view(b * s, h)).view(b, s, h)


class Model(nn.Module):
    def __init__(self, layers, h, nh, nkv, ffn, vocab, full_recompute, mpt=False, moe=None, fp8=False):
        super().__init__()
        self.embed = nn.Embedding(vocab, h)
        if moe is not None:
            self.layers = nn.ModuleList(MoeLayer(h, nh, nkv, *moe) for _ in range(layers))
        else:
            self.layers = nn.ModuleList((MptLayer if mpt else Layer)(h, nh, nkv, ffn, fp8) for _ in range(layers))
        self.norm = nn.LayerNorm(h, bias=False) if mpt else nn.RMSNorm(h, eps=1e-5)
        self.head = nn.Linear(h, vocab, bias=False)
        self.full = full_recompute
        self.fns = list(self.layers)
        self.hd = h // nh

    def forward(self, tokens, cos, sin):
        x = self.embed(tokens)
        for f in self.fns:
            x = checkpoint(f, x, cos, sin, use_reentrant=False) if self.full else f(x, cos, sin)
        return self.head(self.norm(x))


SIDE = [int(x) for x in args.side_spin.split(",") if x]
if SIDE:
    from side_kernels import copy_kernel, spin_kernel  # a stand-in for a collective's CTAs

    spin_out = torch.empty(64 * 4096, device="cuda", dtype=torch.float32)
    COPY_N = 128 * 1024 * 1024
    copy_src = torch.randn(COPY_N, device="cuda", dtype=torch.bfloat16) if args.side_kind == "copy" else None
    copy_dst = torch.empty_like(copy_src) if copy_src is not None else None
    side_stream = torch.cuda.Stream()

    def spin(ctas, passes):
        if args.side_kind == "copy":
            copy_kernel[(ctas,)](copy_src, copy_dst, COPY_N, passes, BLOCK=4096, NPROG=ctas, num_warps=16)
        else:
            spin_kernel[(ctas,)](spin_out, passes, 20000, BLOCK=4096, num_warps=16)

    def spin_pass_ms(ctas):
        spin(ctas, 2)
        torch.cuda.synchronize()
        a, b = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        a.record()
        spin(ctas, 3)
        b.record()
        torch.cuda.synchronize()
        return a.elapsed_time(b) / 3


def side_spin_rows(name, step, steps):
    """Step time alone and beside a spin kernel of N CTAs, alternating, 3 rounds per N."""
    def timed(ctas, passes):
        s0, s1 = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        if ctas:
            with torch.cuda.stream(side_stream):
                s0.record(side_stream)
                spin(ctas, passes)
                s1.record(side_stream)
        e0, e1 = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        e0.record()
        for _ in range(steps):
            step()
        e1.record()
        torch.cuda.synchronize()
        covered = (not ctas) or (s0.elapsed_time(s1) >= s0.elapsed_time(e1) and s0.elapsed_time(e0) >= 0)
        return e0.elapsed_time(e1) / steps, covered
    for ctas in SIDE:
        pm = spin_pass_ms(ctas)
        alone, beside, ok = [], [], True
        for _ in range(3):
            a, _ = timed(0, 0)
            b, c = timed(ctas, max(2, int(a * steps * 2.0 / pm) + 1))
            alone.append(a)
            beside.append(b)
            ok &= c
        ratios = sorted(b / a for a, b in zip(alone, beside))
        rec = dict(record="side_" + args.side_kind, name=name, compile=args.compile, ctas=ctas, steps=steps,
                   alone_ms=alone, beside_ms=beside, slowdown=ratios[1], spin_pass_ms=pm, spin_covered=bool(ok))
        log.write(json.dumps(rec) + "\n")
        log.flush()
        print(f"{name:16s} beside {args.side_kind} {ctas:2d} CTAs: x{ratios[1]:.3f} [{ratios[0]:.3f}-{ratios[2]:.3f}]"
              f"{'' if ok else ' (spin ended first)'}", flush=True)


def run(name):
    moe, extra = None, {}
    if name in MOE_CONFIGS:
        layers, h, nh, nkv, hd, experts, topk, effn, vocab, seq, mbs, qk_norm = MOE_CONFIGS[name]
        moe, ffn, rc = (hd, experts, topk, effn, qk_norm), effn, "none"
        extra = dict(head_dim=hd, experts=experts, top_k=topk, expert_ffn=effn, qk_norm=qk_norm)
    else:
        layers, h, nh, nkv, ffn, vocab, seq, mbs, rc = CONFIGS[name]
        hd = h // nh
    if name.endswith("-fp8"):
        extra = dict(fp8="e4m3 per-tensor current scaling, layers' linears; LM head bf16")
    torch.manual_seed(0)
    with torch.device("cuda"):
        model = Model(layers, h, nh, nkv, ffn, vocab, rc == "full", mpt=name.startswith("mpt"), moe=moe,
                      fp8=name.endswith("-fp8"))
    params = sum(p.numel() for p in model.parameters())
    opt = torch.optim.AdamW(model.parameters(), lr=1e-4, fused=True)
    cos, sin = rope_tables(seq, hd, "cuda")
    # A fresh random batch every step: on one repeated batch the model memorizes it within
    # the warm-up, its gradients shrink toward zero, and the matmuls on them draw less power
    # (and run at a higher clock) than training does.
    def batch():
        tokens = torch.randint(0, vocab, (mbs, seq + 1), device="cuda")
        return tokens[:, :-1], tokens[:, 1:]

    def forward_loss(x, y):
        with torch.autocast("cuda", dtype=torch.bfloat16):
            logits = model(x, cos, sin)
            return F.cross_entropy(logits.view(-1, vocab).float(), y.reshape(-1))

    fwd = torch.compile(forward_loss) if args.compile else forward_loss

    def step():
        x, y = batch()
        loss = fwd(x, y)
        loss.backward()
        opt.step()
        opt.zero_grad(set_to_none=True)
        return loss

    t_compile = time.time()
    for _ in range(args.warmup):
        loss = step()
    torch.cuda.synchronize()
    t_compile = time.time() - t_compile
    torch.cuda.reset_peak_memory_stats()
    e0 = pynvml.nvmlDeviceGetTotalEnergyConsumption(nv)
    w0 = time.time()
    ev0, ev1 = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
    ev0.record()
    clocks, temps = [], []
    for _ in range(args.steps):
        loss = step()
        clocks.append(pynvml.nvmlDeviceGetClockInfo(nv, pynvml.NVML_CLOCK_SM))
        temps.append(pynvml.nvmlDeviceGetTemperature(nv, pynvml.NVML_TEMPERATURE_GPU))
    ev1.record()
    torch.cuda.synchronize()
    w1 = time.time()
    e1 = pynvml.nvmlDeviceGetTotalEnergyConsumption(nv)
    ms = ev0.elapsed_time(ev1) / args.steps
    tok = mbs * seq
    # Model FLOPs per token (DESIGN.md): 6 × matmul parameters + attention 6·layers·seq·hidden·(causal ½)·2.
    matmul_params = params - vocab * h  # the input embedding is a lookup, not a matmul
    if moe is not None:  # only the top-k experts' weights are used per token
        matmul_params -= layers * experts * 3 * h * effn * (1 - topk / experts)
    attn = 12 * layers * seq * nh * hd * 0.5
    model_flops = (6 * matmul_params + attn) * tok
    row = dict(name=name, compile=args.compile, layers=layers, hidden=h, heads=nh, kv_heads=nkv, ffn=ffn,
               vocab=vocab, seq=seq, micro_batch=mbs, recompute=rc, params=params, step_ms=round(ms, 3),
               tokens_per_s=round(tok / ms * 1000, 1), model_tflops=round(model_flops / ms / 1e9, 1),
               watts=round((e1 - e0) / 1000.0 / (w1 - w0), 1), sm_mhz=round(sum(clocks) / len(clocks), 1),
               temp_c=round(sum(temps) / len(temps), 1), peak_mem_gb=round(torch.cuda.max_memory_allocated() / 1e9, 2),
               warmup_s=round(t_compile, 1), loss=float(loss.detach()), **extra)
    log.write(json.dumps(row) + "\n")
    log.flush()
    print(f"{name:16s} compile={args.compile!s:5s} {ms:8.1f} ms/step {row['tokens_per_s']:9.0f} tok/s "
          f"{row['model_tflops']:6.1f} TFLOP/s {row['watts']:6.1f} W {row['sm_mhz']:6.0f} MHz "
          f"{row['peak_mem_gb']:5.1f} GB", flush=True)
    from torch.profiler import ProfilerActivity, profile
    with profile(activities=[ProfilerActivity.CUDA]) as p:
        step()
        torch.cuda.synchronize()
    with open(prof_txt, "a") as f:
        f.write(f"==== {name} compile={args.compile} step_ms={ms:.2f}\n")
        f.write(p.key_averages().table(sort_by="cuda_time_total", row_limit=40, max_name_column_width=90))
    if SIDE:
        side_spin_rows(name, step, max(3, args.steps // 2))
    del model, opt
    torch.cuda.empty_cache()


def check_permute():
    """Permute and Unpermute against the same sums written with autograd's own index ops,
    in float64: forward values and all gradients."""
    torch.manual_seed(1)
    t, k, e, h = 64, 4, 8, 16
    x = torch.randn(t, h, device="cuda", dtype=torch.float64, requires_grad=True)
    w = torch.rand(t, k, device="cuda", dtype=torch.float64, requires_grad=True)
    flat = torch.randint(0, e, (t * k,), device="cuda")
    order = flat.argsort(stable=True)
    inv = torch.empty_like(order).scatter_(0, order, torch.arange(t * k, device="cuda"))
    scale = torch.randn(t * k, h, device="cuda", dtype=torch.float64)
    out = Unpermute.apply(Permute.apply(x, order, inv, k) * scale, w, order, inv)
    ref = torch.zeros(t, h, device="cuda", dtype=torch.float64).index_add(
        0, order // k, x.index_select(0, order // k) * scale * w.flatten()[order].unsqueeze(1))
    gout = torch.randn_like(out)
    gx, gw = torch.autograd.grad(out, (x, w), gout)
    rx, rw = torch.autograd.grad(ref, (x, w), gout)
    err = max(float((out - ref).abs().max()), float((gx - rx).abs().max()), float((gw - rw).abs().max()))
    print(f"permute check: max abs difference {err:.3e}", flush=True)
    assert err < 1e-9, err


def check_fp8():
    """Fp8Matmul against the bf16 product: forward and both gradients within FP8's error."""
    torch.manual_seed(2)
    x = torch.randn(256, 512, device="cuda", dtype=torch.bfloat16, requires_grad=True)
    w = torch.randn(384, 512, device="cuda", dtype=torch.float32, requires_grad=True)
    y = Fp8Matmul.apply(x, w)
    ref = x.float() @ w.t()
    g = torch.randn_like(ref)
    gx, gw = torch.autograd.grad(y, (x, w), g.to(y.dtype))
    rx, rw = torch.autograd.grad(ref, (x, w), g)
    rel = [float((a.float() - b).norm() / b.norm()) for a, b in ((y, ref), (gx, rx), (gw, rw))]
    print(f"fp8 check: relative errors y {rel[0]:.4f} dx {rel[1]:.4f} dw {rel[2]:.4f}", flush=True)
    assert max(rel) < 0.1, rel


if args.check:
    check_permute()
    check_fp8()

for c in args.configs.split(","):
    try:
        run(c)
    except Exception as e:  # noqa: BLE001
        print(f"{c}: {type(e).__name__}: {str(e)[:400]}", flush=True)
        log.write(json.dumps(dict(name=c, compile=args.compile, error=str(e)[:1000])) + "\n")
        torch.cuda.empty_cache()
