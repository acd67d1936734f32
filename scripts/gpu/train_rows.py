#!/usr/bin/env python3
"""Turns train_step.py's train.jsonl into training-validation rows (the columns of
../shared/validation/training_results.csv), so that `pathfinder validate` simulates each
measured single-GPU step. Only the compiled runs become rows: the simulator models fused
kernels (Megatron / Transformer Engine style), which eager PyTorch does not run; the eager
runs stay in the raw file and the README.

Usage: python3 scripts/gpu/train_rows.py TRAIN_JSONL HARDWARE TAG OUT_CSV
"""
import csv
import json
import sys

src, hardware, tag, out = sys.argv[1:5]
cols = ("id,model,params_B,layers,hidden,heads,kv_heads,ffn_hidden,vocab,seq_len,moe_experts,moe_topk,hardware,"
        "num_chips,tp,pp,dp,cp,ep,zero_or_fsdp,recompute,global_batch_tokens_or_sequences,precision,measured_metric,"
        "measured_value,unit,source,notes").split(",")
rows = [json.loads(line) for line in open(src)]
with open(out, "w", newline="") as f:
    w = csv.DictWriter(f, fieldnames=cols, lineterminator="\n")
    w.writeheader()
    for r in rows:
        if "error" in r or not r["compile"]:
            continue
        moe = "experts" in r
        # MoE slices name the model whose layers they are, so that `pathfinder validate`
        # takes its preset (QK-norm, head dim, experts) with the row's layer count.
        family = {"qwen3moe": "Qwen3-30B-A3B", "qwen3moe235": "Qwen3-235B-A22B", "mixtral": "Mixtral-8x7B",
                  "mpt1b": "MPT", "mpt7b": "MPT"}.get(r["name"].split("-")[0], "Llama")
        w.writerow({
            "id": f"{tag}_{r['name']}", "model": f"{family}-shaped ({r['name']}, untied embeddings)",
            "params_B": f"{r['params'] / 1e9:.3f}", "layers": r["layers"], "hidden": r["hidden"], "heads": r["heads"],
            "kv_heads": r["kv_heads"], "ffn_hidden": f"{r['ffn']} per expert" if moe else r["ffn"], "vocab": r["vocab"],
            "seq_len": r["seq"], "moe_experts": r.get("experts", ""), "moe_topk": r.get("top_k", ""),
            "ep": 1 if moe else "",
            "hardware": hardware, "num_chips": 1, "tp": 1, "pp": 1, "dp": 1, "cp": 1,
            "zero_or_fsdp": "none", "recompute": "full activation recompute" if r["recompute"] == "full" else "none",
            "global_batch_tokens_or_sequences": f"{r['micro_batch']} seq", "precision": ("FP8-CS (e4m3 per-tensor current scaling in the layers' linears; autocast, fp32 params)"
                          if "fp8" in r else "BF16 (autocast, fp32 params)"),
            "measured_metric": "tokens_per_s_per_chip", "measured_value": r["tokens_per_s"], "unit": "tokens/s per GPU",
            "source": "scripts/gpu/train_step.py --compile: mean of 12 steps after 4 warm-up steps "
                      "(CUDA events); torch 2.11.0+cu130; this project's run " + tag,
            "notes": f"one GPU, micro-batch {r['micro_batch']} x {r['seq']} random tokens (fresh every step), fused AdamW (fp32 states), "
                     f"torch.compile of forward+loss; board {r['watts']} W at {r['sm_mhz']} MHz (NVML)"
                     + (f"; dropless MoE, force-balanced routing (top-k of random scores), torch._grouped_mm experts, "
                        f"gather-only permute/unpermute" if moe else "")})
