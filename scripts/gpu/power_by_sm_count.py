#!/usr/bin/env python3
"""Board power and SM clock against the number of busy SMs, for the power model's clock law.

The simulator throttles a capped chip by dynamic power ∝ f³ (voltage proportional to
frequency). This measures the law on the card as found, without touching its clocks or
power limit: a persistent Triton kernel keeps exactly k SMs busy with bf16 tensor-core
work (one block per SM; its operands stay in shared memory, so no HBM traffic), for k from
1 to all SMs. While few SMs are busy the board stays under its limit at the top clock, and
the power grows linearly in k; that gives the idle-at-top-clock power and the power of one
busy SM at the top clock. Past the limit the board's controller lowers the clock until the
power is at the limit again; each such k gives one (clock, power per busy SM) point.

Method: each load runs back to back for SECONDS of wall time with 1.5 s idle between; the
board's energy counter (NVML, mJ) over the last 2/3 of the window gives the mean power, the
SM clock and temperature are read from NVML after every launch (about every 50 ms) and
averaged over the same window, the throttle reasons are read mid-window, and
`nvidia-smi -q -d VOLTAGE` is kept where the driver reports a voltage. The kernel's
throughput per SM (FLOPs over CUDA-event time) is the clock's cross-check. A second pass
runs all SMs with inputs of smaller magnitude (less toggling, less power per SM), which
moves the throttled clock without changing the work.

Output: JSON lines in $OUT/dvfs.jsonl, nvidia-smi snapshots in $OUT/dvfs_smi.txt.
Usage: python3 scripts/gpu/power_by_sm_count.py [--out DIR] [--seconds S]
"""
import argparse
import json
import os
import subprocess
import time

import pynvml
import torch
import triton
import triton.language as tl

ap = argparse.ArgumentParser()
ap.add_argument("--out", default=os.environ.get("OUT", "out"))
ap.add_argument("--seconds", type=float, default=6.0)
args = ap.parse_args()
os.makedirs(args.out, exist_ok=True)
log = open(os.path.join(args.out, "dvfs.jsonl"), "a")
smi = os.path.join(args.out, "dvfs_smi.txt")

pynvml.nvmlInit()
nv = pynvml.nvmlDeviceGetHandleByIndex(0)
SMS = torch.cuda.get_device_properties(0).multi_processor_count
BM, BN, BK = 128, 256, 64


@triton.jit
def burn(A, B, C, iters, BM: tl.constexpr, BN: tl.constexpr, BK: tl.constexpr):
    pid = tl.program_id(0)
    rm = tl.arange(0, BM)
    rn = tl.arange(0, BN)
    rk = tl.arange(0, BK)
    a = tl.load(A + pid * BM * BK + rm[:, None] * BK + rk[None, :])
    b = tl.load(B + rk[:, None] * BN + rn[None, :])
    acc = tl.zeros((BM, BN), dtype=tl.float32)
    for _ in range(iters):
        acc = tl.dot(a, b, acc)
    tl.store(C + pid * BM * BN + rm[:, None] * BN + rn[None, :], acc)


def sh(cmd):
    return subprocess.run(cmd, shell=True, capture_output=True, text=True, timeout=60).stdout


def nvml_sample():
    return (pynvml.nvmlDeviceGetClockInfo(nv, pynvml.NVML_CLOCK_SM),
            pynvml.nvmlDeviceGetTemperature(nv, pynvml.NVML_TEMPERATURE_GPU),
            pynvml.nvmlDeviceGetPowerUsage(nv) / 1000.0)


def run_load(name, k, a, b, c, iters, seconds):
    burn[(k,)](a, b, c, iters, BM=BM, BN=BN, BK=BK, num_warps=8)
    torch.cuda.synchronize()
    t0 = time.time()
    samples = []  # (t, clock MHz, temp C, instantaneous W)
    window = None  # (t, energy mJ, launches so far)
    launches = 0
    ev0 = ev1 = None
    snapped = False
    while True:
        now = time.time() - t0
        if now >= seconds:
            break
        if window is None and now >= seconds / 3:
            ev0 = torch.cuda.Event(enable_timing=True)
            ev0.record()
            window = (time.time(), pynvml.nvmlDeviceGetTotalEnergyConsumption(nv), launches)
        if not snapped and now >= seconds / 2:
            snapped = True
            with open(smi, "a") as f:
                f.write(f"==== {name} k={k}\n")
                f.write(sh("nvidia-smi -q -d VOLTAGE,PERFORMANCE,CLOCK,POWER,TEMPERATURE"))
        burn[(k,)](a, b, c, iters, BM=BM, BN=BN, BK=BK, num_warps=8)
        launches += 1
        torch.cuda.synchronize()
        samples.append((time.time() - t0,) + nvml_sample())
    ev1 = torch.cuda.Event(enable_timing=True)
    ev1.record()
    torch.cuda.synchronize()
    t_end = time.time()
    e_end = pynvml.nvmlDeviceGetTotalEnergyConsumption(nv)
    w0, e0, l0 = window
    watts = (e_end - e0) / 1000.0 / (t_end - w0)
    ms = ev0.elapsed_time(ev1)
    n = launches - l0
    flops = 2.0 * BM * BN * BK * iters * k * n
    inside = [s for s in samples if s[0] >= seconds / 3]
    mean = lambda i: sum(s[i] for s in inside) / len(inside)
    reasons = pynvml.nvmlDeviceGetCurrentClocksEventReasons(nv)
    row = dict(name=name, k=k, sms=SMS, iters=iters, launches=n, seconds=seconds, watts=round(watts, 2),
               sm_mhz=round(mean(1), 1), temp_c=round(mean(2), 1), inst_watts=round(mean(3), 1),
               tflops=round(flops / ms / 1e9, 2), tflops_per_sm=round(flops / ms / 1e9 / k, 4),
               clock_event_reasons=int(reasons), t_start=t0, t_end=t_end)
    log.write(json.dumps(row) + "\n")
    log.flush()
    print(f"{name:10s} k={k:3d} {watts:7.1f} W {row['sm_mhz']:7.1f} MHz {row['temp_c']:5.1f} C "
          f"{row['tflops']:8.1f} TFLOP/s {row['tflops_per_sm']:7.3f}/SM reasons={reasons:#x}", flush=True)
    return row


def main():
    with open(smi, "a") as f:
        f.write("==== idle, before\n" + sh("nvidia-smi -q -d VOLTAGE,PERFORMANCE,CLOCK,POWER,TEMPERATURE"))
    c = torch.empty(SMS * BM * BN, device="cuda", dtype=torch.float32)
    b = torch.randn(BK * BN, device="cuda").to(torch.bfloat16)
    a = torch.randn(SMS * BM * BK, device="cuda").to(torch.bfloat16)
    # Correctness of the kernel on one block and a few iterations against a float64 reference.
    burn[(2,)](a, b, c, 3, BM=BM, BN=BN, BK=BK, num_warps=8)
    ref = 3 * (a[: 2 * BM * BK].view(2, BM, BK).double() @ b.view(BK, BN).double())
    got = c[: 2 * BM * BN].view(2, BM, BN).double()
    err = ((got - ref).norm() / ref.norm()).item()
    print(f"kernel check: relative error {err:.2e}", flush=True)
    assert err < 1e-3, err
    # Size iters so one launch takes about 50 ms at the top clock.
    t = time.time()
    burn[(1,)](a, b, c, 20000, BM=BM, BN=BN, BK=BK, num_warps=8)
    torch.cuda.synchronize()
    t = time.time()
    burn[(1,)](a, b, c, 20000, BM=BM, BN=BN, BK=BK, num_warps=8)
    torch.cuda.synchronize()
    iters = max(1000, int(20000 * 0.05 / (time.time() - t)))
    print(f"iters per launch: {iters}", flush=True)
    idle = [nvml_sample() for _ in range(5)]
    log.write(json.dumps(dict(name="idle", k=0, sm_mhz=idle[-1][0], temp_c=idle[-1][1], inst_watts=idle[-1][2])) + "\n")
    for k in [1, 2, 4, 8, 16, 24, 32, 48, 64, 80, 96, 112, 124, SMS]:
        run_load("normal", k, a, b, c, iters, args.seconds)
        time.sleep(1.5)
    for scale, tag in [(0.1, "normal0.1"), (0.01, "normal0.01")]:
        run_load(tag, SMS, (a.float() * scale).to(torch.bfloat16), (b.float() * scale).to(torch.bfloat16), c, iters,
                 args.seconds)
        time.sleep(1.5)
    # Sparse bits: a quarter of the operand values nonzero.
    mask = (torch.rand_like(a, dtype=torch.float32) < 0.25).to(torch.bfloat16)
    run_load("quarter", SMS, a * mask, b, c, iters, args.seconds)
    with open(smi, "a") as f:
        f.write("==== idle, after\n" + sh("nvidia-smi -q -d VOLTAGE,PERFORMANCE,CLOCK,POWER,TEMPERATURE"))


main()
