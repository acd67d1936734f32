#!/usr/bin/env bash
# The main job on built-in examples: what `make demo` runs after building. It walks the
# data flow of ../shared/DESIGN.md — presets, one operator, one collective, a training
# comparison across chip families, a serving comparison, a chip of our own — and ends with
# the accuracy against the published measurements in ../shared/validation.
set -euo pipefail
pf=${1:-build/release/pathfinder}
cd "$(dirname "$0")/.."

step() { printf '\n\033[1m== %s\033[0m\n' "$1"; }
run() { printf '$ pathfinder %s\n' "$*"; "$pf" "$@"; }

step "The chips Pathfinder knows: dense peaks, memory, power; every number sourced (pathfinder explain <chip>)"
run presets chips

step "A model: exact parameter counts and FLOPs per token"
run model llama-3.1-405b --seq 8192

step "One operator on one chip: a bf16 8192³ matmul mapped onto H100, MI300X and TPU v5p"
for chip in h100-sxm mi300x tpu-v5p; do
  run op matmul --chip "$chip" --m 8192 --n 8192 --k 8192 --dtype bf16 | head -n 4
done

step "One collective: all-reduce bus bandwidth vs size on a DGX H100 (like nccl-tests)"
run collective allreduce --cluster dgx-h100 --chips 8 --group dp --sweep-sizes | awk 'NR <= 3 || NR % 2 == 0'

step "Training: Llama-3-70B on 1 024 chips of four families (same job, same split)"
printf '%-10s %s\n' chip "result"
for chip in h100 mi300x tpu-v5p trn2; do
  out=$("$pf" train "examples/train-llama3-70b-1024x$chip.yaml")
  printf '%-10s %s | %s\n' "$chip" "$(grep '^tokens/s' <<<"$out")" "$(grep '^fits' <<<"$out")"
done
printf '(full breakdown: pathfinder train examples/train-llama3-70b-1024xh100.yaml; trace: --trace step.json)\n'

step "Serving: Llama-3.3-70B on 8×H100 vs 8×H200 (continuous batching, paged KV)"
for f in examples/serve-llama3.3-70b-8xh100.yaml examples/serve-llama3.3-70b-8xh200.yaml; do
  printf '$ pathfinder serve %s\n' "$f"
  "$pf" serve "$f" | grep -E '^(serve|TTFT|TPOT|output tokens/s|goodput)'
done

step "A chip of our own: a 2 nm inference part with HBM4 on CoWoS-L, derived from its design"
run design examples/design-2nm-inference.yaml | sed -n '1,16p'

step "Accuracy against published measurements (../shared/validation; last line of each)"
for f in microbench training inference; do
  csv=../shared/validation/${f}_results.csv
  [ -f "$csv" ] || { echo "$f: $csv not present"; continue; }
  printf '%-11s %s\n' "$f:" "$("$pf" validate "$csv" | tail -n 1)"
done
