#!/usr/bin/env python3
"""One GPU's full training step of Llama-shaped models, timed and power-metered.

What the training simulator predicts for a single chip (tp = pp = dp = 1): forward and
backward of every layer, embedding, LM head and cross-entropy loss, and the optimizer step,
plus the board's power while it runs. The models are written out here (no library model
code) so the operator mix is known exactly:
  * Llama layer: RMSNorm (F.rms_norm), fused QKV projection, RoPE (rotate-half, eager),
    causal GQA attention through scaled_dot_product_attention (PyTorch's choice of fused
    backend, recorded from the profiler), output projection, RMSNorm, SwiGLU MLP (gate and
    up in one matmul), no biases; untied input embedding and LM head.
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
Usage: python3 scripts/gpu/train_step.py [--out DIR] [--configs a,b] [--compile]
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
}


def rope_tables(seq, hd, device):
    inv = 1.0 / (500000.0 ** (torch.arange(0, hd, 2, device=device, dtype=torch.float32) / hd))
    ang = torch.outer(torch.arange(seq, device=device, dtype=torch.float32), inv)
    emb = torch.cat([ang, ang], -1)
    return emb.cos().to(torch.bfloat16), emb.sin().to(torch.bfloat16)


def rope(x, cos, sin):
    h = x.shape[-1] // 2
    rot = torch.cat([-x[..., h:], x[..., :h]], -1)
    return x * cos + rot * sin


class Layer(nn.Module):
    def __init__(self, h, nh, nkv, ffn):
        super().__init__()
        self.nh, self.nkv, self.hd = nh, nkv, h // nh
        self.n1 = nn.RMSNorm(h, eps=1e-5)
        self.qkv = nn.Linear(h, (nh + 2 * nkv) * self.hd, bias=False)
        self.o = nn.Linear(nh * self.hd, h, bias=False)
        self.n2 = nn.RMSNorm(h, eps=1e-5)
        self.gu = nn.Linear(h, 2 * ffn, bias=False)
        self.down = nn.Linear(ffn, h, bias=False)

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
    def __init__(self, h, nh, nkv, ffn):
        super().__init__()
        self.nh, self.hd = nh, h // nh
        self.n1 = nn.LayerNorm(h, bias=False)
        self.qkv = nn.Linear(h, 3 * h, bias=False)
        self.o = nn.Linear(h, h, bias=False)
        self.n2 = nn.LayerNorm(h, bias=False)
        self.up = nn.Linear(h, ffn, bias=False)
        self.down = nn.Linear(ffn, h, bias=False)

    def forward(self, x, cos, sin):
        b, s, h = x.shape
        q, k, v = self.qkv(self.n1(x)).view(b, s, 3, self.nh, self.hd).permute(2, 0, 3, 1, 4)
        a = F.scaled_dot_product_attention(q, k, v, is_causal=True)
        x = x + self.o(a.transpose(1, 2).reshape(b, s, h))
        return x + self.down(F.gelu(self.up(self.n2(x))))


class Model(nn.Module):
    def __init__(self, layers, h, nh, nkv, ffn, vocab, full_recompute, mpt=False):
        super().__init__()
        self.embed = nn.Embedding(vocab, h)
        self.layers = nn.ModuleList((MptLayer if mpt else Layer)(h, nh, nkv, ffn) for _ in range(layers))
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


def run(name):
    layers, h, nh, nkv, ffn, vocab, seq, mbs, rc = CONFIGS[name]
    torch.manual_seed(0)
    with torch.device("cuda"):
        model = Model(layers, h, nh, nkv, ffn, vocab, rc == "full", mpt=name.startswith("mpt"))
    params = sum(p.numel() for p in model.parameters())
    opt = torch.optim.AdamW(model.parameters(), lr=1e-4, fused=True)
    cos, sin = rope_tables(seq, h // nh, "cuda")
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
    attn = 12 * layers * seq * h * 0.5
    model_flops = (6 * matmul_params + attn) * tok
    row = dict(name=name, compile=args.compile, layers=layers, hidden=h, heads=nh, kv_heads=nkv, ffn=ffn,
               vocab=vocab, seq=seq, micro_batch=mbs, recompute=rc, params=params, step_ms=round(ms, 3),
               tokens_per_s=round(tok / ms * 1000, 1), model_tflops=round(model_flops / ms / 1e9, 1),
               watts=round((e1 - e0) / 1000.0 / (w1 - w0), 1), sm_mhz=round(sum(clocks) / len(clocks), 1),
               temp_c=round(sum(temps) / len(temps), 1), peak_mem_gb=round(torch.cuda.max_memory_allocated() / 1e9, 2),
               warmup_s=round(t_compile, 1), loss=float(loss.detach()))
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
    del model, opt
    torch.cuda.empty_cache()


for c in args.configs.split(","):
    try:
        run(c)
    except Exception as e:  # noqa: BLE001
        print(f"{c}: {type(e).__name__}: {str(e)[:400]}", flush=True)
        log.write(json.dumps(dict(name=c, compile=args.compile, error=str(e)[:1000])) + "\n")
        torch.cuda.empty_cache()
