// comm/microbench_rows: predictions for the collective rows of the microbenchmark
// validation set (shared/validation/microbench_results.csv) — all-reduce, all-gather and
// reduce-scatter bus bandwidth, MoE all-to-all dispatch/combine (bandwidth and low-latency
// time), point-to-point copies and effective bisection bandwidth — in the row's own unit.
// The caller (validate) reads the file and resolves the hardware; this only computes.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

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

// The seconds one call of a bus-bandwidth row took: its payload × the collective's bus factor
// over the measured bus bandwidth `measured` (in the row's unit), the nccl-tests definitions
// of collective.h read backwards. nullopt for other kinds, or when the payload, the rank
// count or the unit cannot be read.
std::optional<double> MeasuredCallSeconds(const MicrobenchRow& row, double measured);

// A row whose measured call took more than this many times as long as a call with a larger
// payload in the same sweep. A collective library can always move the smaller payload the way
// it moves the larger one, so no network takes longer for fewer bytes; neighbouring sizes of
// the sweeps in the validation sets differ by up to 1.12× the other way (the 1-node P6-B200
// sweep's 64 and 128 KiB calls), well inside the factor.
inline constexpr double kSweepOutlierFactor = 2.0;

// The rows of `rows` (with their measured values and ids, index for index) that one sweep
// contradicts: bus-bandwidth rows of the same kind, hardware, rank count, source and notes,
// whose call took more than kSweepOutlierFactor × the time of a larger payload's call.
// Such a measurement timed something besides the collective (the first payloads of the
// 4-node P6-B200 sweep of stas00/ml-engineering: 6.3 ms for 32 KiB, 0.38 ms for 1 MiB), and
// no model of the network should be judged by it. Index → the reason, naming the larger row.
std::map<size_t, std::string> SweepOutliers(const std::vector<MicrobenchRow>& rows, const std::vector<double>& measured,
                                            const std::vector<std::string>& ids);

}  // namespace pf::comm
