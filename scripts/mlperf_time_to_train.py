#!/usr/bin/env python3
"""Extracts what a time-to-train prediction needs from MLPerf Training result logs.

For every time_to_train_min row of ../shared/validation/training_results.csv whose source
names a submission's result logs (gpt3: NVIDIA, Oracle, Google, Intel-HabanaLabs;
llama2_70b_lora: NVIDIA, Intel-HabanaLabs), reads each run's result_*.txt (MLLOG lines) from a
local git mirror of mlcommons/training_results_v{3.1,4.0,4.1} and writes one line per row to
data/validation/mlperf-time-to-train.csv:

  id            the row
  scored_runs   the runs the published score averages: MLPerf's olympic mean drops the
                fastest and the slowest successful run (3 runs for gpt3, 10 for the LoRA
                benchmark), checked against the row's measured minutes
  trained_tokens  mean over the scored runs of the tokens trained from run_start to run_stop.
                gpt3, always in tokens (= optimizer steps x global_batch_size x 2048):
                NVIDIA and Oracle (NeMo) trained_samples; Google (PAX, MaxText) and Intel
                (Megatron-DeepSpeed) train_samples, logged at run_stop.
                LoRA, NVIDIA and Intel: run_stop samples_count (sequences) x max sequence
                length 8192 (Intel's train_samples, 3901, is the dataset size: not used)
  evals         mean over the scored runs of the evaluations logged: eval_start events, or
                eval_accuracy events where a log has none (Google gpt3, Intel LoRA). Intel's
                LoRA code runs one more, unlogged evaluation at step 144 (its eval_delay,
                about 100 s inside run_start..run_stop): not counted
  eval_tokens   tokens per evaluation. gpt3: eval_samples, which NVIDIA, Oracle and Intel log
                in tokens (11590004); Google logs the 24567 C4 validation documents of the
                same eval set, counted as those 11590004 tokens. LoRA: eval_samples
                sequences x 8192
  rcp_scaling   the factor of the submission's scaling.json (1 when it has none): the
                published score is the olympic mean times it
  logged_minutes  the olympic mean of the logs' run_start..run_stop times x rcp_scaling,
                which must equal the row's measured value (the script checks it)
  source        repository, commit and folder of the logs

Usage: scripts/mlperf_time_to_train.py MIRROR_ROOT > data/validation/mlperf-time-to-train.csv
where MIRROR_ROOT holds mlcommons+training_results_v3.1/repo (git directories).
"""
import csv
import json
import os
import re
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROWS = os.path.join(HERE, "..", "..", "shared", "validation", "training_results.csv")
LORA_SEQ = 8192  # llama2_70b_lora: GovReport sequences padded to 8192 tokens (MLPerf reference)
GPT3_EVAL_DOCS, GPT3_EVAL_TOKENS = 24567, 11590004  # gpt3 eval set: C4 validation documents, their tokens


def git(repo, *args):
    return subprocess.run(["git", "--git-dir", repo, *args], check=True, capture_output=True, text=True).stdout


def mllog(text):
    for line in text.splitlines():
        i = line.find(":::MLLOG ")
        if i >= 0:
            yield json.loads(line[i + len(":::MLLOG "):])


def eval_tokens(samples, lora):
    if lora:
        return samples * LORA_SEQ
    return GPT3_EVAL_TOKENS if samples == GPT3_EVAL_DOCS else samples  # Google logs documents


def read_run(text, lora):
    start = stop = None
    trained = evals = accuracies = eval_samples = 0
    status = None
    for e in mllog(text):
        k = e["key"]
        if k == "run_start":
            start = e["time_ms"]
        elif k == "run_stop":
            stop = e["time_ms"]
            status = e["metadata"].get("status")
            if lora:
                trained = e["metadata"]["samples_count"] * LORA_SEQ
        elif k in ("trained_samples", "train_samples") and not lora:
            trained = e["value"]
        elif k == "eval_start":
            evals += 1
        elif k == "eval_accuracy":
            accuracies += 1
        elif k == "eval_samples":
            eval_samples = e["value"]
    return {"minutes": (stop - start) / 60000.0, "ok": status == "success", "trained": trained,
            "evals": evals or accuracies, "eval_tokens": eval_tokens(eval_samples, lora)}


def main():
    root = sys.argv[1]
    out = csv.writer(sys.stdout, lineterminator="\n")
    out.writerow(["id", "scored_runs", "trained_tokens", "evals", "eval_tokens", "rcp_scaling", "logged_minutes", "source"])
    for r in csv.DictReader(open(ROWS)):
        if r["measured_metric"] != "time_to_train_min":
            continue
        m = re.search(r"logs mlcommons/(training_results_v[0-9.]+)/((?:NVIDIA|Oracle|Google|Intel-HabanaLabs)/results/[^/]+/(gpt3|llama2_70b_lora))/result_", r["source"])
        if not m:
            continue
        repo = os.path.join(root, "mlcommons+" + m.group(1), "repo")
        folder, lora = m.group(2), m.group(3) == "llama2_70b_lora"
        commit = git(repo, "rev-parse", "HEAD").strip()
        names = [n for n in git(repo, "ls-tree", "--name-only", "HEAD", folder + "/").split() if re.search(r"result_\d+\.txt$", n)]
        runs = {os.path.basename(n): read_run(git(repo, "show", "HEAD:" + n), lora) for n in names}
        good = sorted((v["minutes"], k) for k, v in runs.items() if v["ok"])
        scored = [k for _, k in good[1:-1]]  # olympic: drop the fastest and the slowest
        scaling = 1.0
        system = os.path.dirname(folder)
        try:
            sj = json.loads(git(repo, "show", f"HEAD:{system}/{m.group(3)}/scaling.json"))
            scaling = float(sj.get("scaling_factor", 1.0))
        except subprocess.CalledProcessError:
            pass
        mean = lambda key: sum(runs[k][key] for k in scored) / len(scored)
        logged = mean("minutes") * scaling
        measured = float(r["measured_value"])
        if abs(logged - measured) > 0.002 * measured:
            sys.exit(f"{r['id']}: the logs give {logged:.3f} min, the row {measured}")
        out.writerow([r["id"], " ".join(scored), f"{mean('trained'):.0f}", f"{mean('evals'):g}",
                      f"{sum(runs[k]['eval_tokens'] for k in scored) / len(scored):.0f}", f"{scaling:g}", f"{logged:.3f}",
                      f"mlcommons/{m.group(1)} commit {commit[:8]}, {folder}/result_*.txt"])


if __name__ == "__main__":
    main()
