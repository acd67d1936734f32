#!/usr/bin/env python3
"""Turns scripts/gpu/microbench.py output (measurements.jsonl + power.csv) into a
microbenchmark table in the format of ../shared/validation/microbench_results.csv, so that
`pathfinder validate <file>` reports the operator model's error against it, plus a
power/clock summary table.

Usage: python3 scripts/gpu/to_csv.py RUN_DIR HARDWARE SOURCE_TAG OUT_CSV OUT_POWER_CSV
  HARDWARE: the hardware text for the table (e.g. "NVIDIA H100 SXM").
"""
import csv
import datetime
import json
import statistics
import sys

from validation_rows import write_rows

run, hardware, tag, out_csv, out_power = sys.argv[1:6]
rows = [json.loads(line) for line in open(f"{run}/measurements.jsonl")]
rows = [r for r in rows if "error" not in r]
env = open(f"{run}/env.txt").readline().strip()  # "torch … cuda … cudnn …"
method = ("scripts/gpu/microbench.py: triton.testing.do_bench median, L2 flushed before every call, random normal "
          f"inputs; {env}; run {tag}")
out = []


def add(id_, kind, size, value, unit, notes=""):
    out.append({"id": f"{tag}_{id_}", "hardware": hardware, "kind": kind, "size_params": size,
                "measured_value": f"{value:.4g}", "unit": unit, "source": method, "notes": notes})


for r in rows:
    s = r["section"]
    if s == "gemm" and r["dtype"] in ("bf16", "fp16", "fp8", "tf32"):
        kind = {"bf16": "gemm_bf16", "fp16": "gemm_fp16", "fp8": "gemm_fp8_e4m3", "tf32": "gemm_tf32"}[r["dtype"]]
        note = "torch.matmul (cuBLAS), row-major A and B" if r["dtype"] != "fp8" else \
            "torch._scaled_mm, tensor-wise scales, A row-major, B column-major, bf16 output"
        add(f"{kind}_{r['name'].replace(':', '_')}_{r['m']}x{r['n']}x{r['k']}", kind,
            f"M={r['m']} N={r['n']} K={r['k']}", r["tflops"], "TFLOP/s", note)
    elif s == "hbm" and r["mib"] == 4096:
        kind = {"copy": "hbm_copy", "read_sum": "hbm_stream_read", "write_fill": "hbm_stream_init",
                "triad": "hbm_stream_triad"}[r["name"]]
        add(f"{kind}_{r['mib']}MiB", kind, f"{r['mib']} MiB fp32 buffers", r["gbps"], "GB/s",
            "bytes read + written per call; torch copy_ / sum / fill_ / add(alpha)")
    elif s == "attn" and r["backend"] in ("cudnn", "flash"):
        kernel = "best" if r["backend"] == "cudnn" else "flash-attention-2"
        size = (f"b={r['batch']} h={r['heads']} kvh={r['kv_heads']} s={r['seq']} d={r['head_dim']} "
                f"causal={int(r['causal'])} kernel={kernel}")
        lib = ("torch SDPA cuDNN backend" if r["backend"] == "cudnn"
               else "torch SDPA flash backend (FlashAttention-2 kernels built into PyTorch)")
        base = f"{r['backend']}_{r['name']}_b{r['batch']}_s{r['seq']}_d{r['head_dim']}_c{int(r['causal'])}"
        add(base + "_fwd", "attention_fwd", size, r["tflops_fwd"], "TFLOP/s",
            f"{lib}; bf16; FLOPs 4·b·h·s²·d (÷2 causal)")
        add(base + "_bwd", "attention_bwd", size, r["tflops_bwd"], "TFLOP/s",
            f"{lib}; bf16; backward = (forward+backward time) − forward time; FLOPs 2.5 × forward")
    elif s == "grouped" and "ms_grouped_mm" in r:
        add(f"grouped_{r['name']}_{r['part']}_tpe{r['tokens_per_expert']}", "grouped_gemm_bf16",
            f"groups={r['experts']} M/group={r['tokens_per_expert']} N={r['n']} K={r['k']}",
            r["tflops_grouped_mm"], "TFLOP/s", "torch._grouped_mm, bf16, equal tokens per group")
    elif s == "decode" and r["backend"] in ("cudnn", "flash") and r["gqa_native"]:
        add(f"decode_{r['backend']}_b{r['batch']}_L{r['kv_len']}", "attention_decode_time",
            f"b={r['batch']} h={r['heads']} kvh={r['kv_heads']} q=1 context={r['kv_len']} d={r['head_dim']}",
            r["ms"] * 1e3, "us", f"torch SDPA {r['backend']} backend, enable_gqa=True, one new token per sequence")
    elif s == "layer" and r["name"].startswith("gpt3") and r["backend"] == "cudnn":
        add(f"layer_{r['name']}_b{r['batch']}_s{r['seq']}", "transformer_layer_fwd_bwd_time",
            f"h={r['hidden']} a=96 s={r['seq']} b={r['batch']} TP=1 flash=1", r["ms_fwd_bwd"], "ms",
            "GPT-3 175B layer in eager PyTorch (LayerNorm, biased linears, tanh GELU, SDPA cuDNN causal, no dropout), "
            "forward + backward of one layer")
    elif s == "mamf":
        kind = "gemm_bf16_max_achievable" if r["dtype"] == "bf16" else "gemm_fp8_e4m3_max_achievable"
        if (r["m"], r["n"], r["k"]) == (2048, 2048, 13312):
            out.append({"id": f"{tag}_mamf_{r['dtype']}", "hardware": hardware, "kind": kind,
                        "size_params": f"best MxNxK={r['m']}x{r['n']}x{r['k']}", "measured_value": f"{r['tflops']:.4g}",
                        "unit": "TFLOP/s", "source": f"scripts/gpu/microbench.py section mamf (mamf-finder.py's timing: no "
                        f"L2 flush, 50 warm-up calls, mean of 100); {env}; run {tag}",
                        "notes": "stas00's best H100 shape; a burst of about 0.1 s, before the power cap acts"})

write_rows(out_csv, out)

# Power and clock under sustained load: mean of the 100 ms nvidia-smi samples inside each
# window, the first second dropped.
samples = []
for line in open(f"{run}/power.csv"):
    p = [x.strip() for x in line.split(",")]
    try:
        t = datetime.datetime.strptime(p[0], "%Y/%m/%d %H:%M:%S.%f").replace(tzinfo=datetime.timezone.utc).timestamp()
        samples.append((t, float(p[1]), float(p[2]), float(p[3]), float(p[4])))
    except (ValueError, IndexError):
        pass
with open(out_power, "w", newline="") as f:
    w = csv.writer(f)
    w.writerow(["hardware", "load", "seconds", "samples", "mean_power_w", "max_power_w", "mean_sm_clock_mhz",
                "min_sm_clock_mhz", "max_sm_clock_mhz", "mean_temp_c", "tflops", "gb_per_s", "run"])
    for r in rows:
        if r["section"] != "power":
            continue
        win = [x for x in samples if r["t_start"] + 1 <= x[0] <= r["t_end"]]
        if not win:
            continue
        w.writerow([hardware, r["name"], round(r["t_end"] - r["t_start"], 1), len(win),
                    round(statistics.mean(x[1] for x in win), 1), round(max(x[1] for x in win), 1),
                    round(statistics.mean(x[2] for x in win)), round(min(x[2] for x in win)),
                    round(max(x[2] for x in win)), round(statistics.mean(x[4] for x in win)),
                    round(r["tflops"], 1) if r.get("tflops") else "", round(r["gbps"], 1) if r.get("gbps") else "", tag])
print(f"{out_csv}: {len(out)} rows")
