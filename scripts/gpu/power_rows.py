#!/usr/bin/env python3
"""Turns a power/clock table written by scripts/gpu/to_csv.py (OUT_POWER_CSV) into rows in
the format of ../shared/validation/microbench_results.csv, so that `pathfinder validate`
checks the power model against them:

  sustained_gemm_<dtype>   TFLOP/s of a matmul run back to back for 8-15 s (at the power cap)
  board_power_hbm_stream   board watts of an HBM stream at its measured bandwidth

Left out: idle windows, the Llama and attention loads (no single operator to simulate), and
the GEMMs on zeros and uniform(0, 0.01) inputs (the model has no data-dependent power).

Usage: python3 scripts/gpu/power_rows.py POWER_CSV OUT_CSV
"""
import csv
import re
import sys

from validation_rows import write_rows

power_csv, out_csv = sys.argv[1:3]
out = []
for r in csv.DictReader(open(power_csv)):
    load, hw, run = r["load"], r["hardware"], r["run"]
    method = (f"scripts/gpu/microbench.py section power/power2: nvidia-smi sampled every 100 ms while the load runs "
              f"back to back for {r['seconds']} s, mean of {r['samples']} samples after the first second; mean SM "
              f"clock {r['mean_sm_clock_mhz']} MHz, {r['mean_power_w']} W, {r['mean_temp_c']} C; run {run}")
    m = re.fullmatch(r"gemm_(bf16|fp16|fp8|tf32)_(\d+)(?:x(\d+)x(\d+))?(_randn)?", load)
    if m and r["tflops"]:
        dtype = {"fp8": "fp8_e4m3"}.get(m.group(1), m.group(1))
        mm = int(m.group(2))
        n, k = (int(m.group(3)), int(m.group(4))) if m.group(3) else (mm, mm)
        out.append({"id": f"{run}_sustained_{load}", "hardware": hw, "kind": f"sustained_gemm_{dtype}",
                    "size_params": f"M={mm} N={n} K={k}", "measured_value": r["tflops"], "unit": "TFLOP/s",
                    "source": method, "notes": "random normal inputs; torch.matmul (torch._scaled_mm for fp8)"})
        continue
    m = re.fullmatch(r"hbm_(copy|read_sum|triad|fill)_1GiB", load)
    if m and r["gb_per_s"]:
        out.append({"id": f"{run}_board_power_{load}", "hardware": hw, "kind": "board_power_hbm_stream",
                    "size_params": f"stream={m.group(1)} bandwidth={r['gb_per_s']}", "measured_value": r["mean_power_w"],
                    "unit": "W", "source": method,
                    "notes": "bandwidth = bytes read + written per second (GB/s), measured in the same window"})

write_rows(out_csv, out)
print(f"{out_csv}: {len(out)} rows")
