#!/usr/bin/env python3
"""Fused-attention rows from NVIDIA's cuDNN SDPA training benchmark, as validation rows.

NVIDIA/cudnn-frontend benchmark/sdpa_benchmark_training/results/<config>/<gpu>/*.csv hold
the median kernel time of cuDNN's fused attention, forward and backward, on GB200, GB300
and H200 for the attention shapes of Llama 3.1, DeepSeek-V3, Kimi K2.6, Qwen3.5, LTX-2 and
GPT-OSS (benchmark_single_sdpa.py: device time of the cuDNN kernels from torch.profiler,
L2 flushed before every call, median of the iterations after the first 5).

This writes them in the columns of ../shared/validation/microbench_results.csv, kinds
attention_fwd / attention_bwd, in TFLOP/s counted as `pathfinder validate` counts them
(report/validation.cc AttentionRow: forward 2·b·h·s²·(d + dv), half with a causal mask;
backward 2.5× the forward's FLOPs), so measured and predicted FLOPs are the same number:
the rate is that count over the measured milliseconds.

Kept: bf16, successful runs, non-deterministic backward (the default). Left out, counted on
stderr: fp8/mxfp8 attention, the deterministic backward, failed runs, and sliding-window
rows (the row format has no window). Rows named in ANCHORS set constants
(data/calibration/blackwell.yaml) and are left out as well, so every row written
was never used to set anything.

Usage: scripts/cudnn_sdpa_rows.py MIRROR_GIT_DIR > data/heldout/microbench_results.csv
where MIRROR_GIT_DIR is a git directory of NVIDIA/cudnn-frontend (e.g. .../repo).
"""
import csv
import io
import subprocess
import sys

RESULTS = "benchmark/sdpa_benchmark_training/results/"
HARDWARE = {"NVIDIA H200": "NVIDIA H200 SXM"}  # else the gpu_name, an alias of its preset
# (gpu, config, batch, seq, mask) of the rows that set the Blackwell calibration.
ANCHORS = {("NVIDIA GB200", "llama3.1", 2, 16384, "no_mask")}


def git(gitdir, *args):
    return subprocess.run(["git", "--git-dir", gitdir, *args], check=True, capture_output=True, text=True).stdout


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    gitdir = sys.argv[1]
    commit = git(gitdir, "rev-parse", "HEAD").strip()
    files = [p for p in git(gitdir, "ls-tree", "-r", "--name-only", "HEAD", RESULTS).split() if p.endswith(".csv")]
    out = csv.writer(sys.stdout, lineterminator="\n")
    out.writerow(["id", "hardware", "kind", "size_params", "measured_value", "unit", "source", "notes"])
    left_out = {}
    seen = set()

    def drop(why):
        left_out[why] = left_out.get(why, 0) + 1

    for path in sorted(files):
        for r in csv.DictReader(io.StringIO(git(gitdir, "show", f"HEAD:{path}"))):
            if r.get("success") != "True" or not r.get("gpu_name"):
                drop("failed run")
                continue
            if r["data_type"] != "bfloat16":
                drop(f"{r['data_type']} attention")
                continue
            window = (r.get("sliding_window_size") or "").strip()
            if window and float(window) > 0:
                drop("sliding window")
                continue
            gpu = r["gpu_name"]
            b, s, kv = int(r["batch_size"]), int(r["q_seqlen"]), int(r["kv_seqlen"])
            h, kvh = int(r["num_q_heads"]), int(r["num_kv_heads"])
            d, dv = int(r["head_dim_qk"]), int(r["head_dim_vo"])
            if s != kv:
                drop("query and key lengths differ")
                continue
            causal = r["attn_mask"] in ("top_left", "bottom_right")
            if r["attn_mask"] not in ("top_left", "bottom_right", "no_mask"):
                drop(f"mask {r['attn_mask']}")
                continue
            if (gpu, r["model_name"], b, s, r["attn_mask"]) in ANCHORS:
                drop("calibration anchor")
                continue
            passes = []
            if r["profile_pass"] == "both":  # H200 files: both passes per line
                passes = [("fwd", float(r["fwd_time_ms"])), ("bwd", float(r["bwd_time_ms"]))]
                if r.get("deterministic_bwd") == "True":
                    passes = passes[:1]
                    drop("deterministic backward")
            elif r["profile_pass"] == "bwd" and r.get("deterministic_bwd") == "True":
                drop("deterministic backward")
            else:
                passes = [(r["profile_pass"], float(r["time_ms"]))]
            fwd_flops = 2.0 * b * h * s * s * (d + dv) * (0.5 if causal else 1.0)
            for kind, ms in passes:
                if ms <= 0:
                    drop("no time")
                    continue
                flops = fwd_flops * (2.5 if kind == "bwd" else 1.0)
                chip = gpu.split()[-1].lower()
                rid = f"cudnnsdpa_{chip}_{r['model_name']}_b{b}_s{s}_{'causal' if causal else 'full'}_{kind}"
                if rid in seen:
                    drop("repeated shape")
                    continue
                seen.add(rid)
                size = f"b={b} h={h} kvh={kvh} s={s} d={d}" + (f" dv={dv}" if dv != d else "") + f" causal={int(causal)}"
                source = (f"NVIDIA/cudnn-frontend {path} (commit {commit[:8]}): cuDNN {r['cudnn_backend_version']} "
                          f"fused attention, median {'forward' if kind == 'fwd' else 'backward'} kernel time "
                          f"{ms:.3f} ms (torch.profiler device time, L2 flushed, median after 5 warm-up calls)")
                notes = (f"{r['model_name']} attention shape; bf16; FLOPs 2·b·h·s²·(d+dv)"
                         f"{' ÷2 (causal)' if causal else ''}{', backward 2.5× forward' if kind == 'bwd' else ''}")
                out.writerow([rid, HARDWARE.get(gpu, gpu), f"attention_{kind}", size,
                              f"{flops / (ms * 1e-3) / 1e12:.1f}", "TFLOP/s", source, notes])
    for why, n in sorted(left_out.items()):
        print(f"left out: {n} x {why}", file=sys.stderr)


if __name__ == "__main__":
    main()
