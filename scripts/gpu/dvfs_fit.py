#!/usr/bin/env python3
"""Reads power_by_sm_count.py's dvfs.jsonl and tests the simulator's clock law against it.

The unthrottled loads (clock at its maximum) give, by least squares, P(k) = P0 + k·e: the
board at the top clock with no SM busy (P0) and one busy SM's power (e). For each
throttled load of the same kernel and data, the simulator's law predicts
P = P0 + k·e·r³ (static and uncore power fixed, dynamic ∝ f³); the script prints that
prediction's error and the exponent n that would fit the point exactly, for two readings of
the clock ratio r: NVML's SM clock, and the kernel's throughput per SM over its throughput
at the top clock (the clock the work actually saw).

Usage: python3 scripts/gpu/dvfs_fit.py data/measurements/raw/h100-dvfs.jsonl
"""
import json
import math
import sys

rows = [json.loads(line) for line in open(sys.argv[1])]
loads = [r for r in rows if r.get("name") == "normal"]
top = [r for r in loads if r["clock_event_reasons"] == 0]
n = len(top)
mk = sum(r["k"] for r in top) / n
mw = sum(r["watts"] for r in top) / n
e = sum((r["k"] - mk) * (r["watts"] - mw) for r in top) / sum((r["k"] - mk) ** 2 for r in top)
p0 = mw - e * mk
per_mhz = sum(r["tflops_per_sm"] for r in top) / n / 1980.0
print(f"unthrottled: {n} loads, P0 = {p0:.1f} W, e = {e:.3f} W per busy SM, "
      f"max residual {max(abs(r['watts'] - p0 - e * r['k']) for r in top):.1f} W")
print(f"{'k':>4} {'W':>7} {'NVML r':>7} {'err f3':>7} {'n':>5} {'rate r':>7} {'err f3':>7} {'n':>5}")
for r in loads:
    if r["clock_event_reasons"] == 0:
        continue
    dyn = r["k"] * e
    out = []
    for ratio in (r["sm_mhz"] / 1980.0, r["tflops_per_sm"] / per_mhz / 1980.0):
        pred = p0 + dyn * ratio ** 3
        out.append(f"{ratio:7.3f} {100 * (pred / r['watts'] - 1):+6.1f}% "
                   f"{math.log((r['watts'] - p0) / dyn) / math.log(ratio):5.2f}")
    print(f"{r['k']:4d} {r['watts']:7.1f} " + " ".join(out))
