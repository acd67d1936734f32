#!/usr/bin/env python3
"""Recomputes the measured values of data/heldout/mlperf_training_results.csv from the logs.

For every result folder of mlcommons/training_results_v5.0 with llama31_405b or
llama2_70b_lora runs, reads each run's result_*.txt (MLLOG lines) from a local git mirror
and prints one line per folder:

  llama31_405b     seconds per training step: the median over all runs of each block's
                   duration (block_start to its block_stop, or, where a block logs none, to
                   the block's last train_step_time log) divided by the steps in the block
                   (samples trained in it / global_batch_size)
  llama2_70b_lora  samples/s: the median over all runs of the tracked_stats 'throughput'

Then, for every row of the CSV whose source names a folder, the row's measured_value and
the recomputed one.

Usage: scripts/mlperf_v50_measurements.py MIRROR_GIT_DIR [data/heldout/mlperf_training_results.csv]
"""
import csv
import os
import re
import statistics
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from mlperf_time_to_train import git, mllog  # noqa: E402  (the MLLOG reader both scripts use)


def step_seconds(events):
    """Seconds per step of each training block of one run."""
    gbs = next(e["value"] for e in events if e["key"] == "global_batch_size")
    stop = next(e for e in events if e["key"] == "run_stop")
    step_log = {}
    for e in events:
        if e["key"] == "tracked_stats" and isinstance(e["value"], dict) and "train_step_time" in e["value"]:
            step_log[float(e["metadata"]["step"])] = e["time_ms"]
    starts = [i for i, e in enumerate(events) if e["key"] == "block_start"]
    out = []
    for j, i in enumerate(starts):
        begin = events[i]
        seg = events[i + 1:starts[j + 1] if j + 1 < len(starts) else len(events)]
        ends = [e for e in seg if e["key"] == "block_stop"]
        evals = [e for e in seg if e["key"] == "eval_start"]
        if ends and evals:
            t1, s1 = ends[0]["time_ms"], evals[0]["metadata"]["samples_count"]
        else:
            s1 = events[starts[j + 1]]["metadata"]["samples_count"] if j + 1 < len(starts) else stop["metadata"]["samples_count"]
            t1 = step_log[float(s1)]
        steps = (s1 - begin["metadata"]["samples_count"]) / gbs
        out.append((t1 - begin["time_ms"]) / 1000.0 / steps)
    return out


def main():
    repo = sys.argv[1]
    rows_path = sys.argv[2] if len(sys.argv) > 2 else "data/heldout/mlperf_training_results.csv"
    files = git(repo, "ls-tree", "-r", "--name-only", "HEAD").splitlines()
    folders = {}
    for f in files:
        m = re.match(r"(.+/results/[^/]+/(llama31_405b|llama2_70b_lora))/result_\d+\.txt$", f)
        if m:
            folders.setdefault(m.group(1), []).append(f)
    value = {}
    for folder, logs in sorted(folders.items()):
        per_run = [list(mllog(git(repo, "show", "HEAD:" + f))) for f in logs]
        if folder.endswith("llama31_405b"):
            v = statistics.median(x for ev in per_run for x in step_seconds(ev))
        else:
            v = statistics.median(e["value"]["throughput"] for ev in per_run for e in ev
                                  if e["key"] == "tracked_stats" and isinstance(e["value"], dict)
                                  and "throughput" in e["value"])
        value[folder] = v
        print(f"{folder} {v:.4f}")
    print()
    for r in csv.DictReader(open(rows_path, newline="")):
        m = re.search(r"logs mlcommons/training_results_v5\.0/(.+?)/result_\*\.txt", r["source"])
        if m and m.group(1) in value:
            print(f"{r['id']}: row {r['measured_value']}, logs {value[m.group(1)]:.4f}")
        else:
            print(f"{r['id']}: no log folder found in its source")


if __name__ == "__main__":
    main()
