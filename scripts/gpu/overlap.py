#!/usr/bin/env python3
"""What a communication kernel running beside a matmul costs the matmul, on one GPU.

NCCL runs a collective as one CTA per channel (up to 32, 512-640 threads each) on the same
SMs as the compute kernels; Transformer Engine and PyTorch reserve SMs for it by telling
cuBLAS to use fewer (its SM-count target; `torch._C._set_sm_carveout_experimental`). This
stands a persistent copy kernel in for the collective: N CTAs of 512 threads (Triton, 16
warps), each copying its share of a 256 MiB bf16 buffer again and again, on a second CUDA
stream, while the main stream runs the same matmul back to back.

Per N (CTAs of the copy kernel) and per matmul shape:
  * alone: the matmul's median time (CUDA events around each of REPS calls), L2 not flushed
    (back to back, as in a training step);
  * beside the copy: the copy kernel is started first with enough passes to outlast the
    matmuls; each matmul is timed with events on the main stream; the copy kernel's end
    event is checked to come after the last matmul (else the row is marked);
  * the copy kernel's own rate alone and while the matmuls run (bytes read + written / s);
  * with a carve-out of N SMs (cuBLAS told to use 132 − N SMs), alone and beside the copy,
    where this PyTorch has the call.
Output: JSON lines in $OUT/overlap.jsonl and a table on stdout.
Usage: python3 scripts/gpu/overlap.py [--out DIR]
"""
import argparse
import json
import os
import statistics

import torch
import triton
import triton.language as tl

ap = argparse.ArgumentParser()
ap.add_argument("--out", default=os.environ.get("OUT", "out"))
ap.add_argument("--reps", type=int, default=30)
args = ap.parse_args()
os.makedirs(args.out, exist_ok=True)
log = open(os.path.join(args.out, "overlap.jsonl"), "a")
dev = torch.device("cuda")
SMS = torch.cuda.get_device_properties(0).multi_processor_count


@triton.jit
def copy_kernel(src, dst, n, passes, BLOCK: tl.constexpr, NPROG: tl.constexpr):
    pid = tl.program_id(0)
    for _ in range(passes):
        for start in range(pid * BLOCK, n, NPROG * BLOCK):
            offs = start + tl.arange(0, BLOCK)
            m = offs < n
            tl.store(dst + offs, tl.load(src + offs, mask=m), mask=m)


BUF = 128 * 1024 * 1024  # elements: 256 MiB of bf16 per buffer
src = torch.randn(BUF, device=dev, dtype=torch.bfloat16)
dst = torch.empty_like(src)
side = torch.cuda.Stream()


def launch_copy(ctas, passes):
    copy_kernel[(ctas,)](src, dst, BUF, passes, BLOCK=4096, NPROG=ctas, num_warps=16)


def copy_rate(ctas):
    """GB/s (read + write) of the copy kernel alone, and ms per pass."""
    launch_copy(ctas, 1)
    torch.cuda.synchronize()
    e0, e1 = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
    e0.record()
    launch_copy(ctas, 3)
    e1.record()
    torch.cuda.synchronize()
    ms = e0.elapsed_time(e1) / 3
    return 2 * BUF * 2 / ms / 1e6, ms


def time_matmuls(fn, reps):
    evs = [(torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)) for _ in range(reps)]
    for a, b in evs:
        a.record()
        fn()
        b.record()
    return evs


def set_carveout(n):
    try:
        torch._C._set_sm_carveout_experimental(n if n > 0 else None)
        return True
    except Exception:  # noqa: BLE001
        return False


SHAPES = {  # name: (M, N, K), bf16 (fp8 where the name says)
    "square8192": (8192, 8192, 8192),
    "llama8b_fc1_4k": (4096, 28672, 4096),
    "llama8b_qkv_4k": (4096, 6144, 4096),
}
carveout_ok = set_carveout(0)
for ctas in (1, 4, 8, 16, 24, 32):  # compile every grid size before anything is timed
    launch_copy(ctas, 1)
torch.cuda.synchronize()
print(f"{SMS} SMs; sm carve-out call available: {carveout_ok}", flush=True)
SHAPES["llama8b_fc1_4k_fp8"] = SHAPES["llama8b_fc1_4k"]
for name, (m, n, k) in SHAPES.items():
    a = torch.randn(m, k, device=dev, dtype=torch.bfloat16)
    b = torch.randn(k, n, device=dev, dtype=torch.bfloat16)
    fn = lambda: torch.matmul(a, b)  # noqa: E731
    if name.endswith("_fp8"):  # torch._scaled_mm, e4m3, tensor-wise scales, bf16 out
        a8, bt8 = a.to(torch.float8_e4m3fn), b.t().contiguous().to(torch.float8_e4m3fn)
        one = torch.ones((), device=dev)
        fn = lambda: torch._scaled_mm(a8, bt8.t(), scale_a=one, scale_b=one, out_dtype=torch.bfloat16)  # noqa: E731
    for _ in range(10):
        fn()
    torch.cuda.synchronize()
    for ctas in (0, 1, 4, 8, 16, 24, 32):
        for carve in ((0, ctas) if ctas and carveout_ok else (0,)):
            set_carveout(carve)
            for _ in range(3):
                fn()
            evs = time_matmuls(fn, args.reps)
            torch.cuda.synchronize()
            alone = statistics.median(x.elapsed_time(y) for x, y in evs)
            rec = dict(shape=name, m=m, n=n, k=k, copy_ctas=ctas, carveout_sms=carve, reps=args.reps,
                       matmul_ms_alone=alone, tflops_alone=2 * m * n * k / alone / 1e9)
            if ctas:
                gbs, pass_ms = copy_rate(ctas)
                rec.update(copy_gbs_alone=gbs, copy_pass_ms=pass_ms)
                passes = max(2, int(alone * (args.reps + 5) * 1.5 / pass_ms) + 1)
                torch.cuda.synchronize()
                c0, c1 = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
                with torch.cuda.stream(side):
                    c0.record(side)
                    launch_copy(ctas, passes)
                    c1.record(side)
                evs = time_matmuls(fn, args.reps)
                torch.cuda.synchronize()
                beside = statistics.median(x.elapsed_time(y) for x, y in evs)
                outlasted = c0.elapsed_time(c1) >= evs[0][0].elapsed_time(evs[-1][1]) + c0.elapsed_time(evs[0][0])
                rec.update(matmul_ms_beside=beside, tflops_beside=2 * m * n * k / beside / 1e9,
                           slowdown=beside / alone, copy_passes=passes, copy_ms=c0.elapsed_time(c1),
                           copy_gbs_during=2 * BUF * 2 * passes / c0.elapsed_time(c1) / 1e6,
                           copy_outlasted_matmuls=bool(outlasted))
            set_carveout(0)
            log.write(json.dumps(rec) + "\n")
            log.flush()
            print(f"{name:16s} ctas {ctas:2d} carve {carve:2d}: alone {alone:7.3f} ms "
                  f"({rec['tflops_alone']:6.1f} TF/s)" + (
                      f", beside {rec['matmul_ms_beside']:7.3f} ms x{rec['slowdown']:.3f}, copy "
                      f"{rec['copy_gbs_alone']:6.0f} GB/s alone {rec['copy_gbs_during']:6.0f} during"
                      f"{'' if rec['copy_outlasted_matmuls'] else ' (copy ended first)'}" if ctas else ""), flush=True)
