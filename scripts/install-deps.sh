#!/usr/bin/env bash
# Installs the Debian packages Pathfinder needs to build and test, and only those that are
# missing. Idempotent: a second run with everything present runs no apt-get at all.
set -euo pipefail

packages=(
  g++ cmake ninja-build make pkg-config
  libyaml-cpp-dev      # scenario and preset files
  nlohmann-json3-dev   # JSON input and output
  libcli11-dev         # command line
  libfmt-dev           # formatting (g++ 12 has no <format>)
  libsqlite3-dev       # results store
  libopenmpi-dev openmpi-bin  # sweeps across machines (mpirun)
  libgtest-dev libgmock-dev  # unit tests
  libbenchmark-dev     # micro-benchmarks
)

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi

echo "install-deps: installing ${missing[*]}"
sudo_cmd=()
if [ "$(id -u)" -ne 0 ]; then sudo_cmd=(sudo); fi
export DEBIAN_FRONTEND=noninteractive
"${sudo_cmd[@]}" apt-get update -qq
"${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
