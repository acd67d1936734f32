#!/usr/bin/env bash
# Rewrites every tests/errors/*/expected.txt from the current binary, for review in the
# diff (never commit a change here without reading it).
set -euo pipefail
cd "$(dirname "$0")"
pf=$(realpath "${1:-../../build/dev/pathfinder}")
for d in */; do
  d=${d%/}
  args="check input.yaml"
  [ -f "$d/args" ] && args=$(cat "$d/args")
  (cd "$d" && eval "\"$pf\" $args" 2>expected.txt >/dev/null) || true
done
