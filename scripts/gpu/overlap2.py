#!/usr/bin/env python3
"""What a kernel beside a matmul costs the matmul, separated into SMs taken and memory traffic.

The second, cleaner run of overlap.py's question. A collective overlapped with compute
(FSDP gathers, data-parallel reduce-scatters) runs as one CTA per NCCL channel on the same
SMs as the matmuls. Three stand-ins run on a second stream, as N CTAs of 512 threads
(Triton, 16 warps), while the main stream runs one matmul back to back:
  * spin:   each CTA loops on register arithmetic, no memory traffic: only the SMs it
            holds (a Hopper GEMM CTA needs the whole register file, so the two never share
            an SM) and its own power;
  * copy:   each CTA copies its share of a 256 MiB bf16 buffer again and again (an
            all-gather's receive side: read one buffer, write another);
  * reduce: each CTA adds two 256 MiB bf16 buffers into a third (a reduce-scatter step:
            read two, write one).
Per matmul shape and N, ROUNDS rounds of [CALLS calls alone, CALLS calls beside]: the
alone and beside blocks alternate so that the clock's drift under the power cap falls
on both alike. Per block, the median of per-call CUDA events; the slowdown is the median
over rounds of beside / alone of the same round. The stand-in is launched with enough
passes to outlast its block (checked with events; a row where it did not says so). NVML's
SM clock and power are read right after each block. L2 is not flushed (back to back, as
in a training step). Nothing about the card is changed.
Output: JSON lines in $OUT/overlap2.jsonl and a table on stdout.
Usage: python3 scripts/gpu/overlap2.py [--out DIR] [--rounds 5] [--calls 20]
"""
import argparse
import json
import os
import statistics

import pynvml
import torch

from side_kernels import copy_kernel, reduce_kernel, spin_kernel

ap = argparse.ArgumentParser()
ap.add_argument("--out", default=os.environ.get("OUT", "out"))
ap.add_argument("--rounds", type=int, default=5)
ap.add_argument("--calls", type=int, default=20)
ap.add_argument("--ctas", default="1,2,4,8,16,24,32")
args = ap.parse_args()
os.makedirs(args.out, exist_ok=True)
log = open(os.path.join(args.out, "overlap2.jsonl"), "a")
dev = torch.device("cuda")
SMS = torch.cuda.get_device_properties(0).multi_processor_count
pynvml.nvmlInit()
nv = pynvml.nvmlDeviceGetHandleByIndex(0)

BUF = 128 * 1024 * 1024  # elements: 256 MiB of bf16 per buffer
s1 = torch.randn(BUF, device=dev, dtype=torch.bfloat16)
s2 = torch.randn(BUF, device=dev, dtype=torch.bfloat16)
d1 = torch.empty_like(s1)
spin_out = torch.empty(64 * 4096, device=dev, dtype=torch.float32)
side = torch.cuda.Stream()
SPIN_ITERS = 20000


def launch(kind, ctas, passes):
    if kind == "copy":
        copy_kernel[(ctas,)](s1, d1, BUF, passes, BLOCK=4096, NPROG=ctas, num_warps=16)
    elif kind == "reduce":
        reduce_kernel[(ctas,)](s1, s2, d1, BUF, passes, BLOCK=4096, NPROG=ctas, num_warps=16)
    else:
        spin_kernel[(ctas,)](spin_out, passes, SPIN_ITERS, BLOCK=4096, num_warps=16)


def side_alone(kind, ctas):
    """ms per pass of the stand-in alone, and its GB/s (bytes read + written)."""
    launch(kind, ctas, 2)
    torch.cuda.synchronize()
    e0, e1 = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
    e0.record()
    launch(kind, ctas, 3)
    e1.record()
    torch.cuda.synchronize()
    ms = e0.elapsed_time(e1) / 3
    moved = {"copy": 2, "reduce": 3, "spin": 0}[kind] * BUF * 2
    return ms, moved / ms / 1e6


def block(fn, calls):
    evs = [(torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)) for _ in range(calls)]
    for a, b in evs:
        a.record()
        fn()
        b.record()
    return evs


def nvml_now():
    return (pynvml.nvmlDeviceGetClockInfo(nv, pynvml.NVML_CLOCK_SM),
            pynvml.nvmlDeviceGetPowerUsage(nv) / 1000.0)


# name: (M, N, K, dtype). MPT-13B (d_model 5120, expansion 4) forward GEMMs at 4096 tokens
# (micro-batch 2 × 2048), Llama 3 8B's fc1 at 4096 tokens, GPT-3 175B's fc1 at TP 4 in fp8.
SHAPES = {
    "mpt13b_qkv_4k": (4096, 15360, 5120, "bf16"),
    "mpt13b_fc1_4k": (4096, 20480, 5120, "bf16"),
    "mpt13b_fc2_4k": (4096, 5120, 20480, "bf16"),
    "llama8b_fc1_4k": (4096, 28672, 4096, "bf16"),
    "gpt3_fc1_tp4_4k_fp8": (4096, 12288, 12288, "fp8"),
}
CTAS = [int(x) for x in args.ctas.split(",")]
for kind in ("spin", "copy", "reduce"):
    for ctas in CTAS:
        launch(kind, ctas, 1)
torch.cuda.synchronize()
side_rates = {}
for kind in ("spin", "copy", "reduce"):
    for ctas in CTAS:
        side_rates[(kind, ctas)] = side_alone(kind, ctas)
        ms, gbs = side_rates[(kind, ctas)]
        log.write(json.dumps(dict(record="side_alone", kind=kind, ctas=ctas, pass_ms=ms, gbs=gbs)) + "\n")
        print(f"side {kind:6s} {ctas:2d} CTAs alone: {ms:8.3f} ms per pass, {gbs:7.1f} GB/s", flush=True)
print(f"{SMS} SMs", flush=True)

for name, (m, n, k, dt) in SHAPES.items():
    a = torch.randn(m, k, device=dev, dtype=torch.bfloat16)
    b = torch.randn(k, n, device=dev, dtype=torch.bfloat16)
    fn = lambda: torch.matmul(a, b)  # noqa: E731
    if dt == "fp8":  # torch._scaled_mm, e4m3, tensor-wise scales, bf16 out
        a8, bt8 = a.to(torch.float8_e4m3fn), b.t().contiguous().to(torch.float8_e4m3fn)
        one = torch.ones((), device=dev)
        fn = lambda: torch._scaled_mm(a8, bt8.t(), scale_a=one, scale_b=one, out_dtype=torch.bfloat16)  # noqa: E731
    for _ in range(20):
        fn()
    torch.cuda.synchronize()
    for kind in ("spin", "copy", "reduce"):
        for ctas in CTAS:
            pass_ms = side_rates[(kind, ctas)][0]
            alone_ms, beside_ms, ratios, clocks, outlasted = [], [], [], [], True
            for _ in range(args.rounds):
                evs = block(fn, args.calls)
                torch.cuda.synchronize()
                al = statistics.median(x.elapsed_time(y) for x, y in evs)
                c_alone = nvml_now()
                passes = max(2, int(al * (args.calls + 3) * 2.0 / pass_ms) + 1)
                c0, c1 = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
                with torch.cuda.stream(side):
                    c0.record(side)
                    launch(kind, ctas, passes)
                    c1.record(side)
                evs = block(fn, args.calls)
                torch.cuda.synchronize()
                be = statistics.median(x.elapsed_time(y) for x, y in evs)
                c_beside = nvml_now()
                # The stand-in must start before the first timed call and end after the last.
                outlasted &= c0.elapsed_time(c1) >= c0.elapsed_time(evs[-1][1]) and c0.elapsed_time(evs[0][0]) >= 0
                alone_ms.append(al)
                beside_ms.append(be)
                ratios.append(be / al)
                clocks.append(dict(alone_mhz=c_alone[0], alone_w=c_alone[1], beside_mhz=c_beside[0], beside_w=c_beside[1]))
            rec = dict(record="matmul", shape=name, m=m, n=n, k=k, dtype=dt, kind=kind, ctas=ctas,
                       rounds=args.rounds, calls=args.calls, alone_ms=alone_ms, beside_ms=beside_ms,
                       slowdown=statistics.median(ratios), slowdowns=ratios,
                       tflops_alone=2 * m * n * k / statistics.median(alone_ms) / 1e9,
                       side_pass_ms=pass_ms, side_gbs_alone=side_rates[(kind, ctas)][1],
                       side_outlasted=bool(outlasted), nvml=clocks)
            log.write(json.dumps(rec) + "\n")
            log.flush()
            cl = statistics.median(c["beside_mhz"] for c in clocks), statistics.median(c["alone_mhz"] for c in clocks)
            print(f"{name:20s} {kind:6s} {ctas:2d}: alone {statistics.median(alone_ms):7.3f} ms "
                  f"({rec['tflops_alone']:6.1f} TF/s) x{rec['slowdown']:.3f} "
                  f"[{min(ratios):.3f}-{max(ratios):.3f}] MHz {cl[1]:.0f}->{cl[0]:.0f}"
                  f"{'' if outlasted else ' (side ended first)'}", flush=True)
