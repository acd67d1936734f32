#!/usr/bin/env python3
"""Collective rows from stas00/ml-engineering network/README.md, as held-out validation rows.

The shared set (../shared/validation/microbench_results.csv) takes 18 all-reduce rows from
this README. The README holds more measurements of the same kind, which this writes in the
shared set's columns (kinds allreduce_busbw, allgather_busbw, reducescatter_busbw; GB/s of
busbw as the harness printed it):

  * the nccl-tests all_reduce_perf sweep on one 8x A100 node, 32KiB-16GiB;
  * the all_reduce_bench.py sweep on one 8x H200 node, 32KiB-16GiB;
  * the all_reduce_bench.py sweeps on 1 and 4 AWS P6-B200 nodes (torch 2.9.1, NCCL 2.27.7);
  * the nccl-tests GPU-count sweeps at 8GiB on one 8x H200 and one P6-B200 node, 4-8 GPUs,
    as NCCL chose and with NCCL_NVLS_ENABLE=0 (the ring);
  * the 16GiB nccl-tests all-reduce (NVLS and ring), all-gather and reduce-scatter on 8x
    H200, and the 16GiB all_reduce_bench.py all-reduce there with NVLS off.

Left out, and counted on stderr: rows already in the shared set (same hardware, harness and
payload), the four 1-node B200 payloads (64, 128, 256, 512KiB) that set comm/collective.cc's
kTorchBarrierLaunch, the two 8-GPU B200 rows of the GPU-count sweep (ring and NVLS) that
set the NVLink5 efficiencies of data/clusters/{hgx-b200,aws-p6-b200,gb200-nvl72}.yaml, and
the seven 1-node B200 payloads (4, 8, 16, 32, 128, 512MiB, 2GiB) that set those presets'
NVLS chunk cost and rate, and the seven A100 nccl-tests payloads (32MiB-2GiB) that set
data/clusters/dgx-a100.yaml's ring_simple_step, so every row written was never used to set
anything. A row whose run was forced to the ring says "Ring" in size_params (the validator
then prices the ring); the algorithm NCCL chose by itself is in the notes only.

Usage: scripts/mleng_collective_rows.py MIRROR_GIT_DIR > data/heldout/collective_results.csv
where MIRROR_GIT_DIR is a git directory of stas00/ml-engineering (e.g. .../repo).
"""
import csv
import re
import subprocess
import sys

README = "network/README.md"
CALIBRATION = {("b200_1node", s) for s in ("64KiB", "128KiB", "256KiB", "512KiB")} | {("b200_gpus", "8"), ("b200_gpus", "8_ring")} | {
    ("b200_1node", s) for s in ("4MiB", "8MiB", "16MiB", "32MiB", "128MiB", "512MiB", "2GiB")} | {
    ("a100_1node", s) for s in ("32MiB", "64MiB", "128MiB", "256MiB", "512MiB", "1GiB", "2GiB")}
# (series, payload) of the rows ../shared/validation already has from this README.
SHARED = {("a100_1node", "16GiB"), ("h200_1node", "16GiB")} | {
    ("b200_1node", s) for s in ("32KiB", "64MiB", "256MiB", "1GiB", "4GiB", "16GiB")} | {
    ("b200_4node", s) for s in ("32KiB", "1MiB", "64MiB", "256MiB", "4GiB", "16GiB")}
HW = {
    "a100": "8x NVIDIA A100 (1 node, NVLink3)",
    "h200": "8x NVIDIA H200 (1 node, NVLink4/NVSwitch)",
    "b200_1node": "8x NVIDIA B200 (1 node, NVLink5/NVSwitch)",
    "b200_4node": "32x NVIDIA B200 (4 nodes, EFA v4 8x50GB/s per node)",
}


def git(gitdir, *args):
    return subprocess.run(["git", "--git-dir", gitdir, *args], check=True, capture_output=True, text=True).stdout


def human(nbytes):
    for unit, shift in (("GiB", 30), ("MiB", 20), ("KiB", 10)):
        if nbytes >= 1 << shift and nbytes % (1 << shift) == 0:
            return f"{nbytes >> shift}{unit}"
    return f"{nbytes}B"


def table_after(lines, anchor, start=0):
    """The '|'-rows of the first markdown table after the first line containing anchor."""
    i = next(k for k in range(start, len(lines)) if anchor in lines[k])
    while not lines[i].lstrip().startswith("|"):
        i += 1
    rows = []
    while i < len(lines) and lines[i].lstrip().startswith("|"):
        cells = [c.strip() for c in lines[i].strip().strip("|").split("|")]
        if not set("".join(cells)) <= set("-: "):
            rows.append(cells)
        i += 1
    return rows[1:]  # without the header


def gbps(cell):
    return float(re.sub(r"GBps$", "", cell.strip()))


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    gitdir = sys.argv[1]
    commit = git(gitdir, "rev-parse", "HEAD").strip()[:8]
    lines = git(gitdir, "show", f"HEAD:{README}").splitlines()
    src = f"stas00/ml-engineering {README} (commit {commit})"
    rows, left_out = [], {}

    def drop(why):
        left_out[why] = left_out.get(why, 0) + 1

    def add(series, payload, rid, hw, kind, size, value, source, notes):
        if (series, payload) in SHARED:
            return drop("already in ../shared/validation")
        if (series, payload) in CALIBRATION:
            return drop("sets a constant (kTorchBarrierLaunch in comm/collective.cc; NVLink5 efficiencies, NVLS chunk costs and "
                        "the A100 Simple ring step in data/clusters)")
        rows.append([rid, hw, kind, size, f"{value:g}", "GB/s busbw", source, notes])

    # nccl-tests on one A100 node: a fenced block after the all_reduce_perf command line.
    i = next(k for k, l in enumerate(lines) if "all_reduce_perf -b 32k -e 16G -f 2 -g 8 -n 50" in l)
    while not lines[i].startswith("```"):
        m = re.match(r"\s*([0-9_]+)\s+([0-9.]+)\s+([0-9.]+)\s+([0-9.]+)\s*$", lines[i])
        i += 1
        if m:
            p = human(int(m.group(1).replace("_", "")))
            add("a100_1node", p, f"mleng_a100_1node_nccltests_{p}", HW["a100"], "allreduce_busbw", f"payload {p}, 8 ranks",
                float(m.group(4)), f"{src}, section 'Real network throughput': nccl-tests all_reduce_perf -b 32k -e 16G -f 2 -g 8 -n 50",
                f"time {m.group(2)} us as printed")

    # all_reduce_bench.py on one H200 node.
    for cells in table_after(lines, "Here is the same sweep on an 8x H200 node"):
        p = cells[0]
        add("h200_1node", p, f"mleng_h200_1node_{p}", HW["h200"], "allreduce_busbw", f"payload {p}, 8 ranks", gbps(cells[1]),
            f"{src}, section 'Real network throughput': all_reduce_bench.py sweep on an 8x H200 node", "NCCL's default choice (NVLS from 2MiB per the README)")

    # all_reduce_bench.py on 1 and 4 P6-B200 nodes.
    for cells in table_after(lines, "The following table aggregates the `busbw` measurements for `all_reduce`"):
        p = cells[0]
        s = f"{src}, section 'Inter-node speed depends on intra-node speed' (all_reduce_bench.py busbw; AWS P6-B200, torch 2.9.1+cu130, nccl 2.27.7)"
        add("b200_1node", p, f"mleng_b200_1node_{p}", HW["b200_1node"], "allreduce_busbw", f"payload {p}, 8 ranks", gbps(cells[1]), s,
            "NCCL's default choice")
        add("b200_4node", p, f"mleng_b200_4node_{p}", HW["b200_4node"], "allreduce_busbw", f"payload {p}, 32 ranks", gbps(cells[2]), s,
            "NCCL with AWS's ofi tuner plugin")

    # GPU-count sweeps at 8GiB, nccl-tests, as NCCL chose and with NVLS off.
    for anchor, series, chip, hw_of in (
            ("Measured on an 8x H200 node at an 8GiB payload", "h200_gpus", "h200", "{}x NVIDIA H200 (of one 8-GPU node, NVLink4/NVSwitch)"),
            ("The same sweep on an 8x B200 `p6-b200.48xlarge` node", "b200_gpus", "b200", "{}x NVIDIA B200 (of one 8-GPU node, NVLink5/NVSwitch)")):
        for cells in table_after(lines, anchor):
            n, algo = int(cells[0]), cells[1]
            hw = hw_of.format(n)
            s = f"{src}, section 'SHARP': nccl-tests all-reduce at 8GiB on {n} of the node's GPUs" + (
                " of an AWS P6-B200 instance (p6-b200.48xlarge), nccl 2.27.7" if chip == "b200" else "")
            add(series, f"{n}", f"mleng_{chip}_{n}gpu_8GiB", hw, "allreduce_busbw", f"payload 8GiB, {n} ranks", gbps(cells[2]), s,
                f"NCCL chose {algo}")
            add(series, f"{n}_ring", f"mleng_{chip}_{n}gpu_8GiB_nvls_off", hw, "allreduce_busbw",
                f"payload 8GiB, {n} ranks, NCCL_NVLS_ENABLE=0 (Ring)", gbps(cells[3]), s, "NVLS disabled: NCCL runs the ring")

    # 16GiB on 8x H200 by collective (nccl-tests -z 1).
    kinds = {"all-reduce, `NCCL_NVLS_ENABLE=1`": ("allreduce_busbw", "allreduce_nvls", ""),
             "all-reduce, `NCCL_NVLS_ENABLE=0`": ("allreduce_busbw", "allreduce_nvls_off", ", NCCL_NVLS_ENABLE=0 (Ring)"),
             "all-gather": ("allgather_busbw", "allgather", ""), "reduce-scatter": ("reducescatter_busbw", "reducescatter", "")}
    for cells in table_after(lines, "The GPU count is only one of the two conditions"):
        kind, name, extra = kinds[cells[0]]
        add("h200_coll", name, f"mleng_h200_1node_16GiB_{name}_nccltests", HW["h200"], kind, f"payload 16GiB, 8 ranks{extra}",
            gbps(cells[2]), f"{src}, section 'SHARP': nccl-tests at 16GiB, -g 8 -z 1", f"NCCL chose {cells[1]}")

    # all_reduce_bench.py on 8x H200 with NVLS off, 16GiB (the '% of spec' table's ring row).
    for cells in table_after(lines, "Comparing the 16GiB rows against each node's unidirectional spec"):
        if cells[0].startswith("H200") and cells[0].endswith("ring"):
            add("h200_ring", "16GiB", "mleng_h200_1node_16GiB_nvls_off", HW["h200"], "allreduce_busbw",
                "payload 16GiB, 8 ranks, NCCL_NVLS_ENABLE=0 (Ring)", gbps(cells[1]),
                f"{src}, section 'Real network throughput': all_reduce_bench.py at 16GiB with NCCL_NVLS_ENABLE=0, nccl 2.27.7",
                "NVLS disabled: NCCL runs the ring")

    out = csv.writer(sys.stdout, lineterminator="\n")
    out.writerow(["id", "hardware", "kind", "size_params", "measured_value", "unit", "source", "notes"])
    out.writerows(rows)
    print(f"wrote {len(rows)} rows; left out: " + ", ".join(f"{v} {k}" for k, v in sorted(left_out.items())), file=sys.stderr)


if __name__ == "__main__":
    main()
