#!/usr/bin/env bash
# The main job on built-in examples: what `make demo` runs after building. Each later
# capability (training, serving, design, search) adds its step here.
set -euo pipefail
pf=${1:-build/release/pathfinder}
cd "$(dirname "$0")/.."

step() { printf '\n\033[1m== %s\033[0m\n$ %s\n' "$1" "${*:2}"; "${@:2}"; }

step "The chips Pathfinder knows (dense peaks, memory, power; every number sourced)" "$pf" presets chips
step "Where each number of a chip comes from" "$pf" explain h100-sxm
step "Models: exact parameter counts and FLOPs per token" "$pf" model llama-3.1-405b --seq 8192
step "" "$pf" model deepseek-v3 --seq 4096
step "A scenario: a preset chip with overrides, a model, a parallel split (validated)" \
  "$pf" check examples/llama3-70b-h100-96gb.yaml
if "$pf" op --help >/dev/null 2>&1; then
  step "One operator on one chip: a bf16 8192³ matmul on H100, mapped onto its tensor cores" \
    "$pf" op matmul --chip h100-sxm --m 8192 --n 8192 --k 8192 --dtype bf16
  step "The same on MI300X and TPU v5p" "$pf" op matmul --chip mi300x --m 8192 --n 8192 --k 8192 --dtype bf16
  "$pf" op matmul --chip tpu-v5p --m 8192 --n 8192 --k 8192 --dtype bf16
fi
if "$pf" validate --help >/dev/null 2>&1 && [ -f ../shared/validation/microbench_results.csv ]; then
  step "Accuracy against published microbenchmarks (the last line is the summary)" \
    bash -c "'$pf' validate ../shared/validation/microbench_results.csv | tail -n 15"
fi
