// store/: the SQLite results store. One database holds any number of runs (sweeps); each
// evaluated point is one row keyed by (run, point index) with its input and outputs as JSON,
// feasibility and reason, and typed REAL columns for the run's objectives (obj1…obj4, named
// in the run's row), so `sqlite3 results.db "select … order by obj1"` works without JSON.
//
// Crash safety: WAL journal, and each batch of points is one transaction. A process killed
// at any moment (SIGKILL included) leaves every committed batch and nothing of the batch in
// flight; resuming evaluates the points not in the table, and the primary key makes a
// duplicate row impossible. synchronous=NORMAL is durable against a killed process (the
// WAL is in the OS page cache); only an OS crash or power loss can lose the last batches,
// which a resume then re-evaluates.
//
// A run stores its sweep's hash: resuming a run with a different definition is an error.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "pathfinder/core/result.h"

struct sqlite3;

namespace pf::store {

// Typed objective columns per row (a run with more objectives keeps the rest in JSON).
inline constexpr size_t kObjectiveColumns = 4;

struct RunInfo {
  std::string id;
  std::string sweep_hash;
  std::string definition;  // the sweep as JSON text (what was run)
  int64_t points = 0;      // points in the sweep
  std::vector<std::string> objectives;  // names of obj1…objN
};

struct PointRow {
  int64_t index = 0;
  std::string input;   // JSON object text
  std::string output;  // JSON object text
  bool feasible = true;
  std::string reason;
  std::vector<double> objectives;  // up to kObjectiveColumns; NaN stored as NULL
  bool operator==(const PointRow&) const;
};

class Store {
 public:
  // Opens (creating when absent) the database file, in WAL mode.
  static Result<std::unique_ptr<Store>> Open(const std::string& path);
  ~Store();
  Store(const Store&) = delete;
  Store& operator=(const Store&) = delete;

  // Starts `run`. A new id is created; an existing one is an error unless `resume`, and then
  // its hash must equal run.sweep_hash.
  Result<bool> BeginRun(const RunInfo& run, bool resume);
  Result<RunInfo> Run(const std::string& id);
  std::vector<std::string> RunIds();

  // Point indices already stored for the run, ascending.
  Result<std::vector<int64_t>> DoneIndices(const std::string& run_id);
  // Writes the rows in one transaction (all or none).
  Result<bool> Write(const std::string& run_id, const std::vector<PointRow>& rows);
  // Every row of the run, ascending index.
  Result<std::vector<PointRow>> Rows(const std::string& run_id);

 private:
  explicit Store(sqlite3* db) : db_(db) {}
  Result<bool> Exec(const std::string& sql);
  std::string Err() const;
  sqlite3* db_;
};

// Export. CSV: index, feasible, reason, then every input key, then every scalar output key
// (the union over rows, in first-seen order); RFC 4180 quoting. JSON: {run, sweep_hash,
// definition, objectives, points: [{index, feasible, reason, input, output}]}.
std::string ExportCsv(const RunInfo& run, const std::vector<PointRow>& rows);
nlohmann::ordered_json ExportJson(const RunInfo& run, const std::vector<PointRow>& rows);

}  // namespace pf::store
