// comm/microbench_rows: predictions for the collective rows of the microbenchmark
// validation set (shared/validation/microbench_results.csv) — all-reduce, all-gather and
// reduce-scatter bus bandwidth, MoE all-to-all dispatch/combine (bandwidth and low-latency
// time), point-to-point copies and effective bisection bandwidth — in the row's own unit.
// The caller (validate) reads the file and resolves the hardware; this only computes.
#pragma once

#include <string>

#include "pathfinder/comm/collective.h"
#include "pathfinder/hw/cluster.h"

namespace pf::comm {

struct MicrobenchRow {
  std::string kind;         // "allreduce_busbw", "allgather_busbw", "moe_alltoall_dispatch", ...
  std::string hardware;     // the row's hardware text (used only to pick a cluster preset)
  std::string chip_preset;  // resolved chip preset, e.g. "b200"
  long chips = 0;           // resolved chip count (0 = take it from size_params: "32 ranks", "EP=16")
  std::string size_params;  // "payload 64MiB, 32 ranks", "EP=16 (internode); 4096 tokens/batch, ..."
  std::string unit;         // "GB/s busbw", "Gb/s busbw (gigabits)", "us latency", ...
  std::string source;       // the row's source and notes columns: they name the harness
  std::string notes;        // (all_reduce_bench.py, nccl-tests, ...); may be left empty
};

struct MicrobenchPrediction {
  bool ok = false;
  double value = 0;    // in the row's unit
  std::string skip;    // why not, when !ok
  std::string detail;  // algorithm, bounding level, ... for the report
};

// True for the kinds this module predicts.
bool IsCollectiveKind(const std::string& kind);

// Who issued the row's collectives, read from its size, source and notes text:
// torch.distributed for stas00's all_reduce_bench.py / all_reduce_latency_comp.py or a text
// naming torch.distributed; the library itself for nccl-tests (all_reduce_perf) and for rows
// that name no harness.
Issuer IssuerOfRow(const MicrobenchRow& row);

// The cluster preset that matches a row's hardware text and chip ("" if none does).
std::string ClusterPresetForRow(const MicrobenchRow& row);

// Predicts the row on `cluster` (its chip count is set from the row).
MicrobenchPrediction PredictMicrobenchRow(const MicrobenchRow& row, const hw::Cluster& cluster);

}  // namespace pf::comm
