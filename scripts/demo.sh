#!/usr/bin/env bash
# The main job on built-in examples: what `make demo` runs after building. It walks the
# data flow of ../shared/DESIGN.md — presets, one operator, one collective, a training
# comparison across chip families, a serving comparison, a chip of our own and how it
# compares with H200, B200, TPU v6e and Trainium2 — and ends with
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

step "Custom chip vs H200, B200, TPU v6e, Trainium2: Llama-3.3-70B serving, Llama-3.1-405B training"
# examples/compare-{serve,train}-<chip>.yaml: the same job on each chip (replica size and
# parallelism per chip are explained at the top of each file). pf-* chips are derived from
# examples/design-2nm-*.yaml: their datasheets and calibration are estimates.
watts() { sed -n 's/^power: \([0-9.]*\) \(k\{0,1\}\)W per chip.*/\1 \2/p' | awk '{ print $2 == "k" ? $1 * 1000 : $1 }'; }
# $/M: dollars per million tokens from the `cost:` lines ($ per chip-hour: TCO of the chip's
# price, its build cost for pf-*, or a cloud rate for TPU/Trainium; see data/econ/).
dollars() { sed -n "s/^cost: .*, \\\$\([0-9.,]*\) per million $1.*/\1/p" | tr -d ,; }
basis() { sed -n 's/^cost: \$[0-9.,]* per chip-hour (\(.*\)/\1/p' | awk '/cloud on-demand/ { print "cloud rate"; next } /build cost/ { print "build cost"; next } /purchase price/ { print "purchase"; next } { print "-" }'; }
printf '%-12s %16s %16s %6s %14s %14s %10s %10s  %s\n' chip "serve tok/s/chip" "train tok/s/chip" MFU "serve tok/s/W" "train tok/s/W" "serve \$/M" "train \$/M" "\$ basis"
for chip in pf-infer-n2 pf-train-n2 h200-sxm b200 tpu-v6e trainium2; do
  # (stderr only holds the pf-* chips' "derived from a design" warnings; a failure stops here)
  s=$("$pf" serve "examples/compare-serve-$chip.yaml" 2>/dev/null) || { echo "pathfinder serve examples/compare-serve-$chip.yaml failed" >&2; exit 1; }
  t=$("$pf" train "examples/compare-train-$chip.yaml" 2>/dev/null) || { echo "pathfinder train examples/compare-train-$chip.yaml failed" >&2; exit 1; }
  chips=$(sed -n 's/.* on \([0-9]*\) replica(s) × \([0-9]*\) .*/\1 \2/p' <<<"$s" | awk '{ print $1 * $2 }')
  serve=$(awk -v n="$chips" '/^output tokens\/s/ { printf "%.0f", $NF / n }' <<<"$s")
  train=$(sed -n 's/^tokens\/s [^ ]* (\([0-9.e+]*\) per chip).*/\1/p' <<<"$t")
  mfu=$(sed -n 's/.*MFU \([0-9.]*%\).*/\1/p' <<<"$t")
  # tokens/s per watt of average chip power (tokens per joule at the chips); "-" where a
  # command prints no `power: … W per chip` line.
  sw=$(watts <<<"$s"); tw=$(watts <<<"$t")
  serve_w=$([ -n "$sw" ] && awk -v a="$serve" -v w="$sw" 'BEGIN { printf "%.2f", a / w }' || echo -)
  train_w=$([ -n "$tw" ] && awk -v a="$train" -v w="$tw" 'BEGIN { printf "%.3f", a / w }' || echo -)
  # $ per million output tokens (serve) and per million training tokens (train); "-" where a
  # command prints `cost: not estimated`.
  serve_d=$(dollars "output tokens" <<<"$s"); train_d=$(dollars tokens <<<"$t")
  printf '%-12s %16s %16.4g %6s %14s %14s %10s %10s  %s\n' "$chip" "$serve" "$train" "$mfu" "$serve_w" "$train_w" \
    "${serve_d:--}" "${train_d:--}" "$(basis <<<"$s")"
done
printf 'pf-*: derived from examples/design-2nm-*.yaml (estimates). serve: output tokens/s of one replica at full load\n'
printf '(offline arrivals) / its chips; tok/s/W: per watt of average chip power; $/M: per million output (serve) or\n'
printf 'training (train) tokens at the $/chip-hour of the `cost:` line. One: pathfinder train examples/compare-train-b200.yaml\n'

step "Planning: the best splits of Llama-3-70B on 1 024 H100s, ranked (pathfinder plan)"
run plan examples/train-llama3-70b-1024xh100.yaml --top 3

step "Accuracy against published measurements (../shared/validation; last line of each)"
for f in microbench training inference; do
  csv=../shared/validation/${f}_results.csv
  [ -f "$csv" ] || { echo "$f: $csv not present"; continue; }
  printf '%-11s %s\n' "$f:" "$("$pf" validate "$csv" | tail -n 1)"
done
