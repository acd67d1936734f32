#!/usr/bin/env python3
"""Microbenchmarks of one NVIDIA GPU with PyTorch, for data/measurements/.

Measures what Pathfinder's operator models predict: matmul TFLOP/s by shape and dtype,
HBM bandwidth by access pattern and size, fused attention per backend, sequence length
and mask, a transformer layer's forward and backward, and board power and SM clock
under sustained load. Nothing in the build or the tests runs this; it records the
method behind the measured numbers in data/measurements/.

Method (all sections):
  * timing: triton.testing.do_bench (CUDA events, L2 flushed with a 256 MB write before
    every call, warm-up then repeated calls), the median of the repeats;
  * inputs: random normal (never zeros), a fresh tensor set per shape;
  * power/clock: nvidia-smi sampled every 100 ms in a background process while a kernel
    runs back to back for a fixed wall time; the mean of the samples inside the window,
    dropping the first second (clock and power ramp);
  * FLOP counts: matmul 2mnk; attention forward 4·b·h·s²·d (half with a causal mask),
    backward 2.5× forward (the FlashAttention papers' convention).
Output: JSON lines in $OUT/measurements.jsonl, the power samples in $OUT/power.csv,
the environment in $OUT/env.txt, a profile table in $OUT/layer_profile.txt.

Usage: python3 scripts/gpu/microbench.py [--out DIR] [--quick]
"""
import argparse
import json
import math
import os
import subprocess
import sys
import time
import traceback

import torch
import torch.nn as nn
import torch.nn.functional as F
from triton.testing import do_bench

ap = argparse.ArgumentParser()
ap.add_argument("--out", default=os.environ.get("OUT", "out"))
ap.add_argument("--quick", action="store_true")
ap.add_argument("--sections", default="env,power,gemm,hbm,attn,layer,eltwise")
ap.add_argument("--attn-head-dims", default="128,64", help="head dims of the fused-attention sweep")
ap.add_argument("--attn-llama", type=int, default=1, help="1: add the Llama 3 8B GQA attention rows")
args = ap.parse_args()
os.makedirs(args.out, exist_ok=True)
OUT = args.out
SECTIONS = set(args.sections.split(","))
dev = torch.device("cuda")
results = open(os.path.join(OUT, "measurements.jsonl"), "a")


def record(**kw):
    kw["t_wall"] = time.time()
    results.write(json.dumps(kw) + "\n")
    results.flush()


def sh(cmd):
    try:
        return subprocess.run(cmd, shell=True, capture_output=True, text=True, timeout=60).stdout
    except Exception as e:  # noqa: BLE001
        return f"<{cmd}: {e}>"


def bench(fn, warmup=25, rep=100):
    return do_bench(fn, warmup=warmup, rep=rep, return_mode="median")  # ms


# ---------------------------------------------------------------- environment
sampler = None
if "env" in SECTIONS:
    with open(os.path.join(OUT, "env.txt"), "w") as f:
        f.write(f"torch {torch.__version__} cuda {torch.version.cuda} cudnn {torch.backends.cudnn.version()}\n")
        p = torch.cuda.get_device_properties(0)
        f.write(f"device {p.name} sms {p.multi_processor_count} mem {p.total_memory}\n")
        import triton
        f.write(f"triton {triton.__version__}\n")
        f.write(sh("nvidia-smi"))
        f.write(sh("nvidia-smi -q -d POWER,CLOCK,PERFORMANCE,TEMPERATURE"))
        f.write(sh("nvidia-smi --query-gpu=name,vbios_version,power.limit,power.max_limit,clocks.max.sm,clocks.max.mem --format=csv"))
    sampler = subprocess.Popen(
        "nvidia-smi --query-gpu=timestamp,power.draw,clocks.sm,clocks.mem,temperature.gpu,utilization.gpu"
        " --format=csv,noheader,nounits -lms 100",
        shell=True, stdout=open(os.path.join(OUT, "power.csv"), "w"), stderr=subprocess.STDOUT)


def sustained(name, fn, seconds, flops=0.0, bytes_=0.0):
    """Runs fn back to back for `seconds` of wall time; records the window for power.csv."""
    fn()
    torch.cuda.synchronize()
    t0 = time.time()
    n = 0
    chunks = []  # (wall seconds since start, calls) after each synchronized chunk of 20 calls
    start = torch.cuda.Event(enable_timing=True)
    end = torch.cuda.Event(enable_timing=True)
    start.record()
    snap = False
    while time.time() - t0 < seconds:
        if not snap and time.time() - t0 > seconds / 2:
            snap = True  # throttle reasons mid-window, without blocking the launch loop
            with open(os.path.join(OUT, "perf_snapshots.txt"), "a") as f:
                f.write(f"==== {name} at {time.time():.1f}\n")
            subprocess.Popen("nvidia-smi -q -d PERFORMANCE,CLOCK,POWER", shell=True,
                             stdout=open(os.path.join(OUT, "perf_snapshots.txt"), "a"), stderr=subprocess.STDOUT)
        for _ in range(20):
            fn()
        n += 20
        torch.cuda.synchronize()
        chunks.append(round(time.time() - t0, 5))
    end.record()
    torch.cuda.synchronize()
    t1 = time.time()
    ms = start.elapsed_time(end) / n
    record(section="power", name=name, t_start=t0, t_end=t1, ms=ms,
           tflops=flops / ms / 1e9 if flops else None, gbps=bytes_ / ms / 1e6 if bytes_ else None, calls=n,
           chunk_end_s=chunks)
    print(f"sustained {name}: {ms:.3f} ms/call over {t1 - t0:.1f} s", flush=True)


def fp8_mm(m, n, k):
    a = torch.randn(m, k, device=dev).to(torch.float8_e4m3fn)
    b = torch.randn(n, k, device=dev).to(torch.float8_e4m3fn).t()  # column-major B
    one = torch.tensor(1.0, device=dev)
    return lambda: torch._scaled_mm(a, b, scale_a=one, scale_b=one, out_dtype=torch.bfloat16)


def mm(m, n, k, dtype):
    if dtype == "fp8":
        return fp8_mm(m, n, k)
    dt = {"bf16": torch.bfloat16, "fp16": torch.float16, "tf32": torch.float32, "fp32": torch.float32}[dtype]
    a = torch.randn(m, k, device=dev, dtype=dt)
    b = torch.randn(k, n, device=dev, dtype=dt)
    return lambda: torch.matmul(a, b)


def set_tf32(on):
    torch.backends.cuda.matmul.allow_tf32 = on
    torch.backends.cudnn.allow_tf32 = on


# ---------------------------------------------------------------- power and clock
if "power" in SECTIONS:
    try:
        time.sleep(3)
        record(section="power", name="idle", t_start=time.time() - 3, t_end=time.time())
        secs = 6 if args.quick else 15
        sustained("gemm_bf16_8192", mm(8192, 8192, 8192, "bf16"), secs, flops=2 * 8192**3)
        sustained("gemm_fp8_8192", mm(8192, 8192, 8192, "fp8"), secs, flops=2 * 8192**3)
        x = torch.randn(1 << 28, device=dev)  # 1 GiB fp32
        y = torch.empty_like(x)
        sustained("hbm_copy_1GiB", lambda: y.copy_(x), 8, bytes_=2 * x.numel() * 4)
        del x, y
        time.sleep(3)
        record(section="power", name="idle_after", t_start=time.time() - 3, t_end=time.time())
    except Exception:  # noqa: BLE001
        traceback.print_exc()
        record(section="power", error=traceback.format_exc())

# ---------------------------------------------------------------- matmul
if "gemm" in SECTIONS:
    shapes = []
    for dtype in ("bf16", "fp16", "fp8"):
        for s in (256, 512, 1024, 2048, 3072, 4096, 6144, 8192, 12288, 16384):
            shapes.append(("square", dtype, s, s, s))
    for dtype in ("tf32", "fp32"):
        for s in (2048, 4096, 8192):
            shapes.append(("square", dtype, s, s, s))
    # Transformer training shapes (tokens m = 8192), Llama-3 8B and 70B, TP 1 and 8:
    # fprop m x n x k, dgrad m x k x n, wgrad k x n x m (reduction over tokens).
    llm = {
        "llama3_8b_qkv": (4096, 6144), "llama3_8b_o": (4096, 4096), "llama3_8b_gateup": (4096, 28672),
        "llama3_8b_down": (14336, 4096), "llama3_70b_qkv": (8192, 10240), "llama3_70b_gateup": (8192, 57344),
        "llama3_70b_down": (28672, 8192), "llama3_70b_qkv_tp8": (8192, 1280), "llama3_70b_o_tp8": (1024, 8192),
        "llama3_70b_gateup_tp8": (8192, 7168), "llama3_70b_down_tp8": (3584, 8192), "gpt3_175b_qkv_tp8": (12288, 4608),
        "gpt3_175b_fc1_tp8": (12288, 6144), "gpt3_175b_fc2_tp8": (6144, 12288), "llama3_8b_lmhead": (4096, 128256),
    }
    T = 8192
    for dtype in ("bf16", "fp8"):
        for name, (k, n) in llm.items():
            shapes.append((name + ":fprop", dtype, T, n, k))
            shapes.append((name + ":dgrad", dtype, T, k, n))
            shapes.append((name + ":wgrad", dtype, k, n, T))
    # Decode (memory-bound) shapes: m tokens against a 8192 x 8192 and 8192 x 28672 weight.
    for dtype in ("bf16", "fp8"):
        for m in (1, 8, 32, 64, 128, 256, 512, 1024):
            shapes.append(("decode_8192x8192", dtype, m, 8192, 8192))
            shapes.append(("decode_8192x28672", dtype, m, 28672, 8192))
    if args.quick:
        shapes = shapes[::4]
    for (name, dtype, m, n, k) in shapes:
        try:
            set_tf32(dtype == "tf32")
            fn = mm(m, n, k, dtype)
            ms = bench(fn)
            flops = 2.0 * m * n * k
            esize = {"bf16": 2, "fp16": 2, "fp8": 1, "tf32": 4, "fp32": 4}[dtype]
            out_size = 2 if dtype == "fp8" else esize
            byts = esize * (m * k + k * n) + out_size * m * n
            record(section="gemm", name=name, dtype=dtype, m=m, n=n, k=k, ms=ms, tflops=flops / ms / 1e9,
                   gbps=byts / ms / 1e6)
            print(f"gemm {name:28s} {dtype:5s} {m:6d}x{n:6d}x{k:6d} {ms:9.4f} ms {flops / ms / 1e9:8.1f} TFLOP/s",
                  flush=True)
            del fn
        except Exception:  # noqa: BLE001
            record(section="gemm", name=name, dtype=dtype, m=m, n=n, k=k, error=traceback.format_exc()[-400:])
            print(f"gemm {name} {dtype} failed", flush=True)
    set_tf32(False)
    torch.cuda.empty_cache()

# ---------------------------------------------------------------- memory bandwidth
if "hbm" in SECTIONS:
    for mib in (4, 16, 64, 256, 1024, 4096):
        try:
            n = mib * (1 << 20) // 4
            a = torch.randn(n, device=dev)
            b = torch.randn(n, device=dev)
            c = torch.empty(n, device=dev)
            for kind, fn, nbytes in (
                ("copy", lambda: c.copy_(a), 8 * n),
                ("read_sum", lambda: torch.sum(a), 4 * n),
                ("write_fill", lambda: c.fill_(1.5), 4 * n),
                ("triad", lambda: torch.add(b, a, alpha=1.5, out=c), 12 * n),
            ):
                ms = bench(fn)
                record(section="hbm", name=kind, mib=mib, ms=ms, gbps=nbytes / ms / 1e6)
                print(f"hbm {kind:10s} {mib:5d} MiB {ms:8.4f} ms {nbytes / ms / 1e6:8.1f} GB/s", flush=True)
            del a, b, c
        except Exception:  # noqa: BLE001
            record(section="hbm", mib=mib, error=traceback.format_exc()[-400:])
    torch.cuda.empty_cache()

# ---------------------------------------------------------------- fused attention
if "attn" in SECTIONS:
    from torch.nn.attention import SDPBackend, sdpa_kernel
    backends = {"flash": SDPBackend.FLASH_ATTENTION, "cudnn": SDPBackend.CUDNN_ATTENTION,
                "efficient": SDPBackend.EFFICIENT_ATTENTION}
    configs = []
    for d in (int(x) for x in args.attn_head_dims.split(",")):
        h = 2048 // d  # hidden 2048 (or the nearest below), as in the FlashAttention papers
        for s in (512, 1024, 2048, 4096, 8192, 16384):
            for causal in (False, True):
                configs.append((f"fa_d{d}", 16384 // s, h, h, s, d, causal))
    # Llama-3 8B attention (32 query heads, 8 KV heads, d 128) at 8k and 4k.
    for s in (4096, 8192) if args.attn_llama else ():
        configs.append(("llama3_8b_gqa", 1, 32, 8, s, 128, True))
        configs.append(("llama3_8b_mha_equiv", 1, 32, 32, s, 128, True))
    if args.quick:
        configs = configs[::5]
    for (name, b, hq, hkv, s, d, causal) in configs:
        for bname, backend in backends.items():
            try:
                q = torch.randn(b, hq, s, d, device=dev, dtype=torch.bfloat16, requires_grad=True)
                k = torch.randn(b, hkv, s, d, device=dev, dtype=torch.bfloat16, requires_grad=True)
                v = torch.randn(b, hkv, s, d, device=dev, dtype=torch.bfloat16, requires_grad=True)
                do = torch.randn(b, hq, s, d, device=dev, dtype=torch.bfloat16)
                gqa = hq != hkv
                with sdpa_kernel([backend]):
                    def fwd():
                        return F.scaled_dot_product_attention(q, k, v, is_causal=causal, enable_gqa=gqa)

                    def fwdbwd():
                        fwd().backward(do)

                    ms_f = bench(fwd)
                    ms_fb = bench(fwdbwd, warmup=25, rep=150)
                    # forward outputs kept for autograd are freed with the graph each call
                fl = 4.0 * b * hq * s * s * d * (0.5 if causal else 1.0)
                ms_b = ms_fb - ms_f
                record(section="attn", name=name, backend=bname, batch=b, heads=hq, kv_heads=hkv, seq=s, head_dim=d,
                       causal=causal, ms_fwd=ms_f, ms_fwd_bwd=ms_fb, tflops_fwd=fl / ms_f / 1e9,
                       tflops_bwd=2.5 * fl / ms_b / 1e9 if ms_b > 0 else None, tflops_fwd_bwd=3.5 * fl / ms_fb / 1e9)
                print(f"attn {name:18s} {bname:9s} b{b:3d} h{hq:2d}/{hkv:2d} s{s:6d} d{d:3d} c{int(causal)} "
                      f"fwd {fl / ms_f / 1e9:6.1f} bwd {2.5 * fl / max(ms_b, 1e-9) / 1e9:6.1f} "
                      f"fwd+bwd {3.5 * fl / ms_fb / 1e9:6.1f} TFLOP/s", flush=True)
                del q, k, v, do
            except Exception:  # noqa: BLE001
                record(section="attn", name=name, backend=bname, seq=s, head_dim=d, causal=causal,
                       error=traceback.format_exc()[-600:])
                print(f"attn {name} {bname} s{s} d{d} c{int(causal)} failed", flush=True)
    torch.cuda.empty_cache()

# ---------------------------------------------------------------- memory-bound operators
if "eltwise" in SECTIONS:
    try:
        x = torch.randn(8192, 4096, device=dev, dtype=torch.bfloat16)
        g = torch.randn(8192, 4096, device=dev, dtype=torch.bfloat16)
        rms = nn.RMSNorm(4096, device=dev, dtype=torch.bfloat16)
        ln = nn.LayerNorm(4096, device=dev, dtype=torch.bfloat16)
        nb = x.numel() * 2
        for name, fn, nbytes in (
            ("rmsnorm_fwd", lambda: rms(x), 2 * nb), ("layernorm_fwd", lambda: ln(x), 2 * nb),
            ("silu_mul", lambda: F.silu(x) * g, 3 * nb), ("gelu", lambda: F.gelu(x), 2 * nb),
            ("softmax", lambda: torch.softmax(x, -1), 2 * nb), ("add", lambda: x + g, 3 * nb),
        ):
            ms = bench(fn)
            record(section="eltwise", name=name, shape=[8192, 4096], dtype="bf16", ms=ms, gbps=nbytes / ms / 1e6)
            print(f"eltwise {name:14s} {ms:8.4f} ms {nbytes / ms / 1e6:8.1f} GB/s (min bytes)", flush=True)
    except Exception:  # noqa: BLE001
        record(section="eltwise", error=traceback.format_exc()[-600:])


# ---------------------------------------------------------------- transformer layer
class LlamaLayer(nn.Module):
    def __init__(self, h, nh, nkv, ffn):
        super().__init__()
        self.nh, self.nkv, self.hd = nh, nkv, h // nh
        self.n1 = nn.RMSNorm(h)
        self.qkv = nn.Linear(h, (nh + 2 * nkv) * self.hd, bias=False)
        self.o = nn.Linear(nh * self.hd, h, bias=False)
        self.n2 = nn.RMSNorm(h)
        self.gu = nn.Linear(h, 2 * ffn, bias=False)
        self.down = nn.Linear(ffn, h, bias=False)

    def forward(self, x):
        b, s, _ = x.shape
        q, k, v = self.qkv(self.n1(x)).split([self.nh * self.hd, self.nkv * self.hd, self.nkv * self.hd], -1)
        q = q.view(b, s, self.nh, self.hd).transpose(1, 2)
        k = k.view(b, s, self.nkv, self.hd).transpose(1, 2)
        v = v.view(b, s, self.nkv, self.hd).transpose(1, 2)
        a = F.scaled_dot_product_attention(q, k, v, is_causal=True, enable_gqa=self.nkv != self.nh)
        x = x + self.o(a.transpose(1, 2).reshape(b, s, -1))
        gate, up = self.gu(self.n2(x)).chunk(2, -1)
        return x + self.down(F.silu(gate) * up)


class GPTLayer(nn.Module):
    def __init__(self, h, nh):
        super().__init__()
        self.nh, self.hd = nh, h // nh
        self.n1 = nn.LayerNorm(h)
        self.qkv = nn.Linear(h, 3 * h)
        self.o = nn.Linear(h, h)
        self.n2 = nn.LayerNorm(h)
        self.fc1 = nn.Linear(h, 4 * h)
        self.fc2 = nn.Linear(4 * h, h)

    def forward(self, x):
        b, s, h = x.shape
        q, k, v = self.qkv(self.n1(x)).view(b, s, 3, self.nh, self.hd).permute(2, 0, 3, 1, 4)
        a = F.scaled_dot_product_attention(q, k, v, is_causal=True)
        x = x + self.o(a.transpose(1, 2).reshape(b, s, h))
        return x + self.fc2(F.gelu(self.fc1(self.n2(x)), approximate="tanh"))


if "layer" in SECTIONS:
    from torch.nn.attention import SDPBackend, sdpa_kernel
    layers = [
        ("llama3_8b_layer", lambda: LlamaLayer(4096, 32, 8, 14336), 4096, (1, 8192)),
        ("llama3_8b_layer", lambda: LlamaLayer(4096, 32, 8, 14336), 4096, (2, 4096)),
        ("llama3_70b_layer_tp1", lambda: LlamaLayer(8192, 64, 8, 28672), 8192, (1, 8192)),
        ("gpt3_175b_layer_tp1", lambda: GPTLayer(12288, 96), 12288, (1, 2048)),
        ("gpt3_175b_layer_tp1", lambda: GPTLayer(12288, 96), 12288, (2, 2048)),
    ]
    for (name, make, h, (b, s)) in layers:
        for bname, backend in (("cudnn", SDPBackend.CUDNN_ATTENTION), ("flash", SDPBackend.FLASH_ATTENTION)):
            try:
                torch.manual_seed(0)
                layer = make().to(dev, torch.bfloat16)
                x = torch.randn(b, s, h, device=dev, dtype=torch.bfloat16, requires_grad=True)
                dy = torch.randn(b, s, h, device=dev, dtype=torch.bfloat16)
                with sdpa_kernel([backend]):
                    def fwd():
                        return layer(x)

                    def fwdbwd():
                        layer(x).backward(dy)

                    with torch.no_grad():
                        ms_inf = bench(fwd)
                    ms_f = bench(fwd)
                    ms_fb = bench(fwdbwd, rep=200)
                    params = sum(p.numel() for p in layer.parameters())
                    record(section="layer", name=name, backend=bname, batch=b, seq=s, hidden=h, params=params,
                           ms_fwd_nograd=ms_inf, ms_fwd=ms_f, ms_fwd_bwd=ms_fb)
                    print(f"layer {name:22s} {bname:6s} b{b} s{s}: fwd(no grad) {ms_inf:7.3f} fwd {ms_f:7.3f} "
                          f"fwd+bwd {ms_fb:7.3f} ms", flush=True)
                    if name == "llama3_8b_layer" and b == 1 and bname == "cudnn":
                        from torch.profiler import ProfilerActivity, profile
                        with profile(activities=[ProfilerActivity.CUDA]) as prof:
                            for _ in range(5):
                                fwdbwd()
                            torch.cuda.synchronize()
                        with open(os.path.join(OUT, "layer_profile.txt"), "w") as f:
                            f.write(f"{name} b{b} s{s} {bname}: 5 fwd+bwd\n")
                            f.write(prof.key_averages().table(sort_by="cuda_time_total", row_limit=60,
                                                              max_name_column_width=90))
                del layer, x, dy
                torch.cuda.empty_cache()
            except Exception:  # noqa: BLE001
                record(section="layer", name=name, backend=bname, batch=b, seq=s, error=traceback.format_exc()[-600:])
                print(f"layer {name} {bname} failed: {traceback.format_exc()[-300:]}", flush=True)


# ---------------------------------------------------------------- burst vs sustained, mamf-style
if "mamf" in SECTIONS:
    # mamf-finder.py's method (stas00/ml-engineering): no L2 flush, 50 warm-up calls, mean of 100.
    for (m, n, k) in ((2048, 2048, 13312), (4096, 4096, 4096), (8192, 8192, 8192), (4096, 4096, 13312)):
        for dtype in ("bf16", "fp8"):
            try:
                fn = mm(m, n, k, dtype)
                time.sleep(2)  # let the clock recover from the previous load
                for _ in range(50):
                    fn()
                s0 = torch.cuda.Event(enable_timing=True)
                s1 = torch.cuda.Event(enable_timing=True)
                s0.record()
                for _ in range(100):
                    fn()
                s1.record()
                torch.cuda.synchronize()
                ms = s0.elapsed_time(s1) / 100
                record(section="mamf", dtype=dtype, m=m, n=n, k=k, ms=ms, tflops=2.0 * m * n * k / ms / 1e9)
                print(f"mamf {dtype} {m}x{n}x{k}: {2.0 * m * n * k / ms / 1e9:.1f} TFLOP/s", flush=True)
            except Exception:  # noqa: BLE001
                record(section="mamf", dtype=dtype, m=m, n=n, k=k, error=traceback.format_exc()[-400:])

# ---------------------------------------------------------------- kernel launch overhead
if "launch" in SECTIONS:
    try:
        x = torch.zeros(1024, device=dev)
        for _ in range(100):
            x.add_(1.0)
        torch.cuda.synchronize()
        e0 = torch.cuda.Event(enable_timing=True)
        e1 = torch.cuda.Event(enable_timing=True)
        N = 5000
        e0.record()
        for _ in range(N):
            x.add_(1.0)
        e1.record()
        torch.cuda.synchronize()
        eager = e0.elapsed_time(e1) / N * 1e3
        g = torch.cuda.CUDAGraph()
        s = torch.cuda.Stream()
        s.wait_stream(torch.cuda.current_stream())
        with torch.cuda.stream(s):
            for _ in range(3):
                x.add_(1.0)
        torch.cuda.current_stream().wait_stream(s)
        with torch.cuda.graph(g):
            for _ in range(500):
                x.add_(1.0)
        g.replay()
        torch.cuda.synchronize()
        e0.record()
        for _ in range(10):
            g.replay()
        e1.record()
        torch.cuda.synchronize()
        graph = e0.elapsed_time(e1) / 5000 * 1e3
        record(section="launch", name="tiny_add_back_to_back", us_per_kernel_eager=eager, us_per_kernel_graph=graph)
        print(f"launch: tiny kernel back to back {eager:.2f} us eager, {graph:.2f} us in a CUDA graph", flush=True)
        for sz in (256, 512, 1024, 2048):
            a = torch.randn(sz, sz, device=dev, dtype=torch.bfloat16)
            b = torch.randn(sz, sz, device=dev, dtype=torch.bfloat16)
            for _ in range(20):
                torch.matmul(a, b)
            e0.record()
            for _ in range(1000):
                torch.matmul(a, b)
            e1.record()
            torch.cuda.synchronize()
            us = e0.elapsed_time(e1)  # ms per 1000 = us per call
            record(section="launch", name="gemm_back_to_back", m=sz, n=sz, k=sz, us_per_call=us,
                   tflops=2.0 * sz**3 / us / 1e6)
            print(f"launch: bf16 {sz}^3 back to back {us:.2f} us/call {2.0 * sz**3 / us / 1e6:.1f} TFLOP/s", flush=True)
    except Exception:  # noqa: BLE001
        record(section="launch", error=traceback.format_exc()[-600:])

# ---------------------------------------------------------------- MoE grouped matmuls
if "grouped" in SECTIONS:
    moe = {  # hidden, expert ffn, local experts
        "mixtral_8x7b": (4096, 14336, 8), "deepseek_v3_ep32": (7168, 2048, 8),
        "qwen3_30b_a3b_ep8": (2048, 768, 16), "gpt_oss_120b_ep8": (2880, 2880, 16),
    }
    for name, (h, f, e) in moe.items():
        for tpe in (128, 256, 512, 1024, 2048, 4096):
            for part, (k, n) in (("gateup", (h, 2 * f)), ("down", (f, h))):
                flops = 2.0 * e * tpe * k * n
                a = torch.randn(e * tpe, k, device=dev, dtype=torch.bfloat16)
                offs = torch.arange(1, e + 1, device=dev, dtype=torch.int32) * tpe
                rec = dict(section="grouped", name=name, part=part, experts=e, tokens_per_expert=tpe, k=k, n=n)
                try:
                    bt = torch.randn(e, n, k, device=dev, dtype=torch.bfloat16).transpose(-2, -1)
                    ms = bench(lambda: torch._grouped_mm(a, bt, offs=offs))
                    rec["ms_grouped_mm"] = ms
                except Exception:  # noqa: BLE001
                    rec["grouped_mm_error"] = traceback.format_exc()[-300:]
                try:
                    b3 = torch.randn(e, k, n, device=dev, dtype=torch.bfloat16)
                    a3 = a.view(e, tpe, k)
                    rec["ms_bmm"] = bench(lambda: torch.bmm(a3, b3))
                    ws = [b3[i] for i in range(e)]
                    xs = [a3[i] for i in range(e)]
                    rec["ms_loop"] = bench(lambda: [torch.matmul(xs[i], ws[i]) for i in range(e)])
                except Exception:  # noqa: BLE001
                    rec["bmm_error"] = traceback.format_exc()[-300:]
                for key in ("ms_grouped_mm", "ms_bmm", "ms_loop"):
                    if key in rec:
                        rec["tflops_" + key[3:]] = flops / rec[key] / 1e9
                record(**rec)
                print(f"grouped {name:18s} {part:6s} E{e:2d} tpe {tpe:5d} k{k:5d} n{n:5d} " + " ".join(
                    f"{key[7:]} {rec[key]:6.1f}" for key in ("tflops_grouped_mm", "tflops_bmm", "tflops_loop") if key in rec),
                    flush=True)
    torch.cuda.empty_cache()

# ---------------------------------------------------------------- decode attention
if "decode" in SECTIONS:
    from torch.nn.attention import SDPBackend, sdpa_kernel
    for L in (1024, 4096, 16384, 32768):
        for b in (1, 8, 32, 64):
            q = torch.randn(b, 32, 1, 128, device=dev, dtype=torch.bfloat16)
            k = torch.randn(b, 8, L, 128, device=dev, dtype=torch.bfloat16)
            v = torch.randn(b, 8, L, 128, device=dev, dtype=torch.bfloat16)
            kx, vx = k.repeat_interleave(4, 1), v.repeat_interleave(4, 1)  # MHA layout for kernels without GQA
            kv_bytes = 2 * b * 8 * L * 128 * 2
            for bname, backend in (("flash", SDPBackend.FLASH_ATTENTION), ("cudnn", SDPBackend.CUDNN_ATTENTION),
                                   ("efficient", SDPBackend.EFFICIENT_ATTENTION), ("math", SDPBackend.MATH)):
                for gqa in (True, False):
                    try:
                        with sdpa_kernel([backend]):
                            if gqa:
                                ms = bench(lambda: F.scaled_dot_product_attention(q, k, v, enable_gqa=True))
                            else:
                                ms = bench(lambda: F.scaled_dot_product_attention(q, kx, vx))
                        record(section="decode", backend=bname, gqa_native=gqa, batch=b, heads=32, kv_heads=8,
                               kv_len=L, head_dim=128, ms=ms, gbps_gqa_kv=kv_bytes / ms / 1e6)
                        print(f"decode {bname:9s} gqa{int(gqa)} b{b:3d} L{L:6d} {ms * 1e3:8.1f} us "
                              f"{kv_bytes / ms / 1e6:7.1f} GB/s (GQA KV bytes)", flush=True)
                    except Exception:  # noqa: BLE001
                        record(section="decode", backend=bname, gqa_native=gqa, batch=b, kv_len=L,
                               error=traceback.format_exc()[-300:])
            del q, k, v, kx, vx
    torch.cuda.empty_cache()

# ---------------------------------------------------------------- sustained training-like load
if "sustain2" in SECTIONS:
    try:
        from torch.nn.attention import SDPBackend, sdpa_kernel
        stack = nn.Sequential(*[LlamaLayer(4096, 32, 8, 14336) for _ in range(4)]).to(dev, torch.bfloat16)
        x = torch.randn(1, 8192, 4096, device=dev, dtype=torch.bfloat16, requires_grad=True)
        dy = torch.randn(1, 8192, 4096, device=dev, dtype=torch.bfloat16)
        with sdpa_kernel([SDPBackend.CUDNN_ATTENTION]):
            sustained("llama3_8b_4layers_fwd_bwd_b1_s8192", lambda: stack(x).backward(dy), 15)
        del stack, x, dy
        torch.cuda.empty_cache()
        x = torch.randn(1 << 28, device=dev)
        sustained("hbm_read_sum_1GiB", lambda: torch.sum(x), 6, bytes_=x.numel() * 4)
        del x
        a = torch.randn(4096, 4096, device=dev, dtype=torch.bfloat16)
        b = torch.randn(4096, 4096, device=dev, dtype=torch.bfloat16)
        sustained("gemm_bf16_4096", lambda: torch.matmul(a, b), 10, flops=2 * 4096**3)
        a = torch.randn(2048, 13312, device=dev, dtype=torch.bfloat16)
        b = torch.randn(13312, 2048, device=dev, dtype=torch.bfloat16)
        sustained("gemm_bf16_2048x2048x13312", lambda: torch.matmul(a, b), 10, flops=2 * 2048 * 2048 * 13312)
        time.sleep(4)
        record(section="power", name="idle_end", t_start=time.time() - 3, t_end=time.time())
    except Exception:  # noqa: BLE001
        traceback.print_exc()
        record(section="power", error=traceback.format_exc()[-600:])

# ---------------------------------------------------------------- power by load, for the energy model
if "power2" in SECTIONS:
    try:
        from torch.nn.attention import SDPBackend, sdpa_kernel
        n = 8192

        def gemm_with(make, dt=torch.bfloat16):
            a, b = make((n, n)).to(dt), make((n, n)).to(dt)
            return lambda: torch.matmul(a, b)

        loads = [
            ("gemm_bf16_8192_randn", gemm_with(lambda sh: torch.randn(sh, device=dev)), 2 * n**3, 0),
            ("gemm_bf16_8192_uniform_0.01", gemm_with(lambda sh: torch.rand(sh, device=dev) * 0.01), 2 * n**3, 0),
            ("gemm_bf16_8192_zeros", gemm_with(lambda sh: torch.zeros(sh, device=dev)), 2 * n**3, 0),
            ("gemm_fp16_8192_randn", gemm_with(lambda sh: torch.randn(sh, device=dev), torch.float16), 2 * n**3, 0),
            ("gemm_bf16_1024_randn", (lambda a, b: lambda: torch.matmul(a, b))(
                torch.randn(1024, 1024, device=dev, dtype=torch.bfloat16),
                torch.randn(1024, 1024, device=dev, dtype=torch.bfloat16)), 2 * 1024**3, 0),
        ]
        for name, fn, fl, by in loads:
            time.sleep(2)
            sustained(name, fn, 8, flops=fl, bytes_=by)
        set_tf32(True)
        time.sleep(2)
        sustained("gemm_tf32_8192_randn", gemm_with(lambda sh: torch.randn(sh, device=dev), torch.float32), 8,
                  flops=2 * n**3)
        set_tf32(False)
        q = torch.randn(1, 16, 16384, 128, device=dev, dtype=torch.bfloat16, requires_grad=True)
        k = torch.randn(1, 16, 16384, 128, device=dev, dtype=torch.bfloat16, requires_grad=True)
        v = torch.randn(1, 16, 16384, 128, device=dev, dtype=torch.bfloat16, requires_grad=True)
        do = torch.randn(1, 16, 16384, 128, device=dev, dtype=torch.bfloat16)
        fl = 4.0 * 16 * 16384**2 * 128
        with sdpa_kernel([SDPBackend.CUDNN_ATTENTION]):
            time.sleep(2)
            sustained("attn_cudnn_fwd_s16k_d128", lambda: F.scaled_dot_product_attention(q, k, v), 8, flops=fl)
            time.sleep(2)
            sustained("attn_cudnn_fwd_bwd_s16k_d128", lambda: F.scaled_dot_product_attention(q, k, v).backward(do), 8,
                      flops=3.5 * fl)
        del q, k, v, do
        x = torch.randn(1 << 28, device=dev)
        y = torch.randn(1 << 28, device=dev)
        z = torch.empty_like(x)
        time.sleep(2)
        sustained("hbm_triad_1GiB", lambda: torch.add(y, x, alpha=1.5, out=z), 6, bytes_=3 * x.numel() * 4)
        time.sleep(2)
        sustained("hbm_fill_1GiB", lambda: z.fill_(1.5), 6, bytes_=x.numel() * 4)
        del x, y, z
        time.sleep(4)
        record(section="power", name="idle_end", t_start=time.time() - 3, t_end=time.time())
    except Exception:  # noqa: BLE001
        traceback.print_exc()
        record(section="power", error=traceback.format_exc()[-600:])

if sampler is not None:
    sampler.terminate()
results.close()
print("done", flush=True)
