// report/validation: simulates the rows of a published-results CSV (microbenchmarks,
// training, inference) and compares with the measured value: per-row absolute % error, a
// summary per source and per kind, and the last line
//   validated N of M rows: MAPE X.X%, median Y.Y%, max Z.Z%
// Rows that cannot be simulated are counted as skipped with the reason.
//
// How to add a kind of file or of row: write a RowSimulator and add one line to
// RegisterBuiltinFileValidators() (per file kind) or RegisterBuiltinMicrobenchKinds()
// (per microbenchmark `kind` value) in validation.cc. Later issues replace the training
// and inference entries.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "pathfinder/core/diag.h"
#include "pathfinder/ops/op_model.h"
#include "pathfinder/power/power.h"
#include "pathfinder/spec/validation_csv.h"

namespace pf::report {

struct RowResult {
  std::string id;
  std::string kind;    // microbench kind, or the measured_metric
  std::string group;   // source group: the id up to its first '_' (mamf, deepgemm, …)
  bool ok = false;
  double measured = 0, predicted = 0, abs_pct_error = 0;
  std::string unit;
  std::string reason;  // why skipped; for ok rows what was simulated
  // Non-empty: simulated, but its measurement contradicts another row of the same file
  // (comm::SweepOutliers), so it is shown and left out of the summaries; says why.
  std::string left_out;
  // Training rows: non-empty when the memory model says the published run, which ran, does
  // not fit on its chips (the fit check's reason): a wrong verdict of the memory model.
  std::string does_not_fit;
  // The chip preset the row's hardware cell names ("" when it names none).
  std::string chip;
};

// Which way a row's metric points, from its unit: +1 a rate or other larger-is-better value
// (TFLOP/s, GB/s, tokens/s, MFU), −1 a time ("s per …", "ms", "us", "minutes"), 0 neither
// (a power in W). A prediction is optimistic when it is better than the measurement that way.
int MetricDirection(const std::string& unit);

// Chips resolved from hardware cells, with their calibrated op models, loaded once each.
class ChipCache {
 public:
  struct Entry {
    std::optional<ops::OpModel> model;
    int count = 1;       // chips named in the cell ("8x …")
    std::string preset;
    std::string error;   // why the hardware could not be used
  };
  const Entry& Get(const std::string& hardware_text);
  // The chip's power model (spec::ChipPowerModelFor), read once per chip; null, with `*why`,
  // when it does not load.
  const power::ChipPowerModel* PowerModel(const hw::Chip& chip, std::string* why);

 private:
  std::map<std::string, Entry> by_text_;
  std::map<std::string, std::shared_ptr<ops::OpModel>> by_preset_;
  std::map<std::string, std::pair<std::optional<power::ChipPowerModel>, std::string>> power_by_chip_;
};

using RowSimulator = std::function<RowResult(const spec::ValidationTable&, const spec::CsvRow&, ChipCache&)>;

struct FileValidator {
  spec::ValidationKind kind;
  RowSimulator simulate;
};
std::vector<FileValidator> RegisterBuiltinFileValidators();

struct MicrobenchKind {
  std::string kind;  // the `kind` column value
  RowSimulator simulate;
};
std::vector<MicrobenchKind> RegisterBuiltinMicrobenchKinds();

struct Summary {
  int validated = 0, total = 0;
  int left_out = 0;  // simulated rows left out of the error figures (RowResult::left_out)
  double mape = 0, median = 0, max = 0;
  // Validated rows whose metric has a direction (MetricDirection ≠ 0), and of those the ones
  // the model predicts better than measured: a bias the absolute errors hide.
  int directed = 0, optimistic = 0;
  // Mean over those rows of the error signed that way, in %: + where the model is optimistic
  // (its rate above the measured, its time below), − where pessimistic.
  double mean_signed = 0;
};
Summary Summarize(const std::vector<RowResult>& rows);

struct ValidationReport {
  std::string file;
  spec::ValidationKind kind = spec::ValidationKind::kMicrobench;
  std::vector<RowResult> rows;
  Summary all;
};

ValidationReport Validate(const spec::ValidationTable& table);

// The per-row table, summaries per source group and per kind, and the last line.
std::string Render(const ValidationReport& r);
// "validated N of M rows: MAPE X.X%, median Y.Y%, max Z.Z%", followed by
// " (K left out: …)" when rows were left out.
std::string SummaryLine(const Summary& s);
// "within 10 %: K of N validated rows (P %); the best 85 % (B rows): MAPE X.X%, max Y.Y%" —
// the form of the training issue's target (MAPE ≤ 10 % over at least 85 % of the rows); ""
// when no row was validated. Render prints it just above the summary line.
std::string SpreadLine(const std::vector<RowResult>& rows);
// "memory fit: the model says K of N simulated runs (each of which ran) do not fit: ids" —
// training files: every published run fitted on its chips, so each such verdict is an error
// of the memory model; "" when no row was simulated. Render prints it below SpreadLine.
std::string FitLine(const std::vector<RowResult>& rows);
// id,status,measured,predicted,abs_pct_error,reason (CSV, quoted where needed).
std::string RowsCsv(const ValidationReport& r);

// A Megatron-LM GPT layer (Korthikanti et al. 2022 Fig. 4 structure) on `tp` chips: forward
// and backward time in seconds, from ops costs plus ring all-reduce/reduce-scatter
// estimates for the tensor-parallel collectives. Exposed for tests.
struct LayerConfig {
  int64_t hidden = 0, heads = 0, seq = 0, micro_batch = 1, ffn = 0;  // ffn 0 = 4·hidden
  int tp = 1;
  bool sequence_parallel = false;
  bool selective_recompute = false;
  bool flash_attention = false;  // false: unfused softmax/dropout on the s×s scores (2022 Megatron)
  DType dtype = DType::kBf16;
  // Time of one tensor-parallel all-reduce of the given payload over the TP group (from
  // comm/ on the row's cluster). Required when tp > 1.
  std::function<Seconds(Bytes)> tp_allreduce;
};
struct LayerTime {
  Seconds forward, backward, comm;
};
LayerTime SimulateGptLayer(const ops::OpModel& m, const LayerConfig& c);

// A supplement file of data/validation/ (`name`, e.g. "training-settings.csv"): what a
// published row's run used and the row leaves out. Its records after the header, each with
// its line number. An absent file gives no records and no error; an unreadable file, a CSV
// syntax error or a header other than `header` gives the error, naming the file and line.
struct SettingsCsv {
  std::string path;
  std::vector<std::vector<std::string>> records;
  std::vector<int> lines;
  std::string error;
};
SettingsCsv ReadSettingsCsv(const std::string& name, const std::vector<std::string>& header);

}  // namespace pf::report
