#!/usr/bin/env python3
"""How single operations slow beside a kernel of 8 CTAs on another stream (diagnostic for
overlap2.py and train_step.py --side-spin): each op timed 20 times back to back, alone and
right after the side kernel was launched on a second stream (it outlasts the 20 calls).
Side kernel: `spin` (register arithmetic, no memory traffic) or `copy` (a 256 MiB bf16 copy
again and again), as in overlap2.py.
Usage: python3 scripts/gpu/side_probe.py [spin|copy]   (table on stdout)"""
import sys

import torch
import torch.nn.functional as F

from side_kernels import copy_kernel, spin_kernel

KIND = sys.argv[1] if len(sys.argv) > 1 else "spin"
N = 128 * 1024 * 1024
csrc = torch.randn(N, device="cuda", dtype=torch.bfloat16)
cdst = torch.empty_like(csrc)


def side(passes):
    if KIND == "copy":  # 8 CTAs copy 512 MiB per pass in about 1.8 ms
        copy_kernel[(8,)](csrc, cdst, N, max(2, passes // 4), BLOCK=4096, NPROG=8, num_warps=16)
    else:
        spin_kernel[(8,)](o, passes, 20000, BLOCK=4096, num_warps=16)


o = torch.empty(64 * 4096, device="cuda")
s = torch.cuda.Stream()
print("current stream", torch.cuda.current_stream(), "side", s, flush=True)
x = torch.randn(4096, 4096, device="cuda", dtype=torch.bfloat16)
w = torch.randn(4096, device="cuda", dtype=torch.bfloat16)
lin = torch.nn.Linear(4096, 4096, device="cuda")
opt = torch.optim.AdamW(lin.parameters(), lr=1e-4, fused=True)
tgt = torch.zeros(4096, dtype=torch.long, device="cuda")


def t(fn, beside):
    torch.cuda.synchronize()
    if beside:
        with torch.cuda.stream(s):
            side(500)
    a, b = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
    a.record()
    for _ in range(20):
        fn()
    b.record()
    torch.cuda.synchronize()
    return a.elapsed_time(b) / 20


def fwd_bwd():
    with torch.autocast("cuda", dtype=torch.bfloat16):
        y = lin(x.float())
    F.cross_entropy(y.float(), tgt).backward()


def adam():
    opt.step()


def zero():
    opt.zero_grad(set_to_none=True)


def new_tensor():
    torch.empty(1 << 26, device="cuda", dtype=torch.bfloat16).fill_(1)


side(2)
torch.cuda.synchronize()
a, b = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
a.record()
side(500)
b.record()
torch.cuda.synchronize()
print(f"{KIND}(8 CTAs) alone: {a.elapsed_time(b):.1f} ms", flush=True)
tests = {"matmul": lambda: x @ x, "gelu": lambda: F.gelu(x), "layer_norm": lambda: F.layer_norm(x, (4096,)),
         "rms_norm": lambda: F.rms_norm(x, (4096,), w), "sum": lambda: x.sum(), "softmax": lambda: x.softmax(-1),
         "cross_entropy": lambda: F.cross_entropy(x.float(), tgt),
         "randint": lambda: torch.randint(0, 100, (4096,), device="cuda"), "add_": lambda: x.add_(1e-3),
         "new_tensor": new_tensor, "fwd_bwd": fwd_bwd, "adamw_fused": adam, "zero_grad": zero,
         "event": lambda: torch.cuda.Event(enable_timing=True).record()}
for k, fn in tests.items():
    fn()
    fn()
    al = t(fn, False)
    be = t(fn, True)
    print(f"{k:14s} alone {al:.4f} ms beside {KIND}(8) {be:.4f} ms x{be / al:.2f}", flush=True)
