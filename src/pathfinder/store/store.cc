// The SQLite results store and its CSV/JSON export (see store.h).
#include "pathfinder/store/store.h"

#include <fmt/core.h>
#include <sqlite3.h>

#include <cmath>
#include <map>

namespace pf::store {
namespace {

// A prepared statement that finalizes itself.
class Stmt {
 public:
  Stmt(sqlite3* db, const char* sql) { rc_ = sqlite3_prepare_v2(db, sql, -1, &s_, nullptr); }
  ~Stmt() { sqlite3_finalize(s_); }
  bool ok() const { return rc_ == SQLITE_OK; }
  sqlite3_stmt* get() { return s_; }
  void Text(int i, const std::string& v) { sqlite3_bind_text(s_, i, v.data(), int(v.size()), SQLITE_TRANSIENT); }
  void Int(int i, int64_t v) { sqlite3_bind_int64(s_, i, v); }
  void Real(int i, double v) {
    if (std::isnan(v)) sqlite3_bind_null(s_, i);
    else sqlite3_bind_double(s_, i, v);
  }
  std::string ColText(int i) {
    const unsigned char* t = sqlite3_column_text(s_, i);
    return t ? std::string(reinterpret_cast<const char*>(t), size_t(sqlite3_column_bytes(s_, i))) : std::string();
  }

 private:
  sqlite3_stmt* s_ = nullptr;
  int rc_ = SQLITE_ERROR;
};

constexpr const char* kSchema = R"sql(
CREATE TABLE IF NOT EXISTS runs (
  id TEXT PRIMARY KEY,
  sweep_hash TEXT NOT NULL,
  definition TEXT NOT NULL,
  points INTEGER NOT NULL,
  objectives TEXT NOT NULL   -- JSON list: the names of obj1, obj2, ...
);
CREATE TABLE IF NOT EXISTS points (
  run_id TEXT NOT NULL REFERENCES runs(id),
  idx INTEGER NOT NULL,
  input TEXT NOT NULL,       -- JSON: the parameter values of the point
  output TEXT NOT NULL,      -- JSON: everything evaluated
  feasible INTEGER NOT NULL,
  reason TEXT NOT NULL,
  obj1 REAL, obj2 REAL, obj3 REAL, obj4 REAL,
  PRIMARY KEY (run_id, idx)
) WITHOUT ROWID;
)sql";

}  // namespace

bool PointRow::operator==(const PointRow& o) const {
  if (index != o.index || input != o.input || output != o.output || feasible != o.feasible || reason != o.reason) return false;
  if (objectives.size() != o.objectives.size()) return false;
  for (size_t i = 0; i < objectives.size(); ++i) {
    const double a = objectives[i], b = o.objectives[i];
    if (!(a == b || (std::isnan(a) && std::isnan(b)))) return false;
  }
  return true;
}

Result<std::unique_ptr<Store>> Store::Open(const std::string& path) {
  sqlite3* db = nullptr;
  if (sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, nullptr) != SQLITE_OK) {
    std::string m = db ? sqlite3_errmsg(db) : "out of memory";
    sqlite3_close(db);
    return Error{fmt::format("cannot open results store '{}': {}", path, m)};
  }
  // Another process (a viewer, a second sweep) may hold the lock briefly.
  sqlite3_busy_timeout(db, 10000);
  std::unique_ptr<Store> s(new Store(db));
  for (const char* sql : {"PRAGMA journal_mode=WAL;", "PRAGMA synchronous=NORMAL;", kSchema}) {
    auto r = s->Exec(sql);
    if (!r.ok()) return Error{fmt::format("results store '{}': {}", path, r.error())};
  }
  return s;
}

Store::~Store() { sqlite3_close(db_); }

std::string Store::Err() const { return sqlite3_errmsg(db_); }

Result<bool> Store::Exec(const std::string& sql) {
  char* msg = nullptr;
  if (sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &msg) != SQLITE_OK) {
    std::string m = msg ? msg : Err();
    sqlite3_free(msg);
    return Error{m};
  }
  return true;
}

Result<RunInfo> Store::Run(const std::string& id) {
  Stmt q(db_, "SELECT sweep_hash, definition, points, objectives FROM runs WHERE id = ?1");
  if (!q.ok()) return Error{Err()};
  q.Text(1, id);
  const int rc = sqlite3_step(q.get());
  if (rc == SQLITE_DONE) return Error{fmt::format("no run '{}' in the results store", id)};
  if (rc != SQLITE_ROW) return Error{Err()};
  RunInfo r;
  r.id = id;
  r.sweep_hash = q.ColText(0);
  r.definition = q.ColText(1);
  r.points = sqlite3_column_int64(q.get(), 2);
  r.objectives = nlohmann::json::parse(q.ColText(3)).get<std::vector<std::string>>();
  return r;
}

std::vector<std::string> Store::RunIds() {
  std::vector<std::string> ids;
  Stmt q(db_, "SELECT id FROM runs ORDER BY id");
  while (q.ok() && sqlite3_step(q.get()) == SQLITE_ROW) ids.push_back(q.ColText(0));
  return ids;
}

Result<bool> Store::BeginRun(const RunInfo& run, bool resume) {
  auto existing = Run(run.id);
  if (existing.ok()) {
    if (!resume) {
      return Error{fmt::format("the results store already holds run '{}'; pass --resume to continue it, or use another --db", run.id)};
    }
    if (existing->sweep_hash != run.sweep_hash) {
      return Error{fmt::format("run '{}' in the results store is a different sweep (hash {}, this sweep {}); "
                               "it cannot be resumed with this file — use another --db",
                               run.id, existing->sweep_hash, run.sweep_hash)};
    }
    return true;
  }
  Stmt ins(db_, "INSERT INTO runs (id, sweep_hash, definition, points, objectives) VALUES (?1, ?2, ?3, ?4, ?5)");
  if (!ins.ok()) return Error{Err()};
  ins.Text(1, run.id);
  ins.Text(2, run.sweep_hash);
  ins.Text(3, run.definition);
  ins.Int(4, run.points);
  ins.Text(5, nlohmann::json(run.objectives).dump());
  if (sqlite3_step(ins.get()) != SQLITE_DONE) return Error{Err()};
  return true;
}

Result<std::vector<int64_t>> Store::DoneIndices(const std::string& run_id) {
  Stmt q(db_, "SELECT idx FROM points WHERE run_id = ?1 ORDER BY idx");
  if (!q.ok()) return Error{Err()};
  q.Text(1, run_id);
  std::vector<int64_t> v;
  int rc;
  while ((rc = sqlite3_step(q.get())) == SQLITE_ROW) v.push_back(sqlite3_column_int64(q.get(), 0));
  if (rc != SQLITE_DONE) return Error{Err()};
  return v;
}

Result<bool> Store::Write(const std::string& run_id, const std::vector<PointRow>& rows) {
  auto b = Exec("BEGIN IMMEDIATE");
  if (!b.ok()) return b;
  {
    Stmt ins(db_,
             "INSERT INTO points (run_id, idx, input, output, feasible, reason, obj1, obj2, obj3, obj4) "
             "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)");
    if (!ins.ok()) {
      std::string m = Err();
      (void)Exec("ROLLBACK");
      return Error{m};
    }
    for (const auto& r : rows) {
      sqlite3_reset(ins.get());
      ins.Text(1, run_id);
      ins.Int(2, r.index);
      ins.Text(3, r.input);
      ins.Text(4, r.output);
      ins.Int(5, r.feasible ? 1 : 0);
      ins.Text(6, r.reason);
      for (size_t k = 0; k < kObjectiveColumns; ++k) ins.Real(int(7 + k), k < r.objectives.size() ? r.objectives[k] : NAN);
      if (sqlite3_step(ins.get()) != SQLITE_DONE) {
        std::string m = fmt::format("writing point {}: {}", r.index, Err());
        (void)Exec("ROLLBACK");
        return Error{m};
      }
    }
  }
  return Exec("COMMIT");
}

Result<std::vector<PointRow>> Store::Rows(const std::string& run_id) {
  auto run = Run(run_id);
  if (!run.ok()) return Error{run.error()};
  const size_t nobj = std::min(kObjectiveColumns, run->objectives.size());
  Stmt q(db_, "SELECT idx, input, output, feasible, reason, obj1, obj2, obj3, obj4 FROM points WHERE run_id = ?1 ORDER BY idx");
  if (!q.ok()) return Error{Err()};
  q.Text(1, run_id);
  std::vector<PointRow> v;
  int rc;
  while ((rc = sqlite3_step(q.get())) == SQLITE_ROW) {
    PointRow r;
    r.index = sqlite3_column_int64(q.get(), 0);
    r.input = q.ColText(1);
    r.output = q.ColText(2);
    r.feasible = sqlite3_column_int(q.get(), 3) != 0;
    r.reason = q.ColText(4);
    for (size_t k = 0; k < nobj; ++k) {
      const int c = int(5 + k);
      r.objectives.push_back(sqlite3_column_type(q.get(), c) == SQLITE_NULL ? NAN : sqlite3_column_double(q.get(), c));
    }
    v.push_back(std::move(r));
  }
  if (rc != SQLITE_DONE) return Error{Err()};
  return v;
}

namespace {

std::string CsvField(const std::string& s) {
  if (s.find_first_of(",\"\n\r") == std::string::npos) return s;
  std::string q = "\"";
  for (char c : s) {
    if (c == '"') q += '"';
    q += c;
  }
  return q + "\"";
}

std::string Scalar(const nlohmann::ordered_json& v) {
  if (v.is_string()) return v.get<std::string>();
  if (v.is_null()) return "";
  if (v.is_array()) {
    std::string s;
    for (const auto& e : v) s += (s.empty() ? "" : "; ") + Scalar(e);
    return s;
  }
  return v.dump();
}

// Keys of the JSON objects of a column over all rows, in first-seen order.
std::vector<std::string> Keys(const std::vector<nlohmann::ordered_json>& objs) {
  std::vector<std::string> keys;
  std::map<std::string, bool> seen;
  for (const auto& o : objs)
    for (auto it = o.begin(); it != o.end(); ++it)
      if (!it.value().is_object() && !seen[it.key()]) {
        seen[it.key()] = true;
        keys.push_back(it.key());
      }
  return keys;
}

}  // namespace

std::string ExportCsv(const RunInfo& /*run*/, const std::vector<PointRow>& rows) {
  std::vector<nlohmann::ordered_json> in, out;
  for (const auto& r : rows) {
    in.push_back(nlohmann::ordered_json::parse(r.input));
    out.push_back(nlohmann::ordered_json::parse(r.output));
  }
  const auto ik = Keys(in), ok = Keys(out);
  std::string s = "index,feasible,reason";
  for (const auto& k : ik) s += "," + CsvField(k);
  for (const auto& k : ok) s += "," + CsvField(k);
  s += "\n";
  for (size_t i = 0; i < rows.size(); ++i) {
    s += fmt::format("{},{},{}", rows[i].index, rows[i].feasible ? 1 : 0, CsvField(rows[i].reason));
    for (const auto& k : ik) s += "," + CsvField(in[i].contains(k) ? Scalar(in[i][k]) : "");
    for (const auto& k : ok) s += "," + CsvField(out[i].contains(k) ? Scalar(out[i][k]) : "");
    s += "\n";
  }
  return s;
}

nlohmann::ordered_json ExportJson(const RunInfo& run, const std::vector<PointRow>& rows) {
  nlohmann::ordered_json pts = nlohmann::ordered_json::array();
  for (const auto& r : rows) {
    pts.push_back({{"index", r.index},
                   {"feasible", r.feasible},
                   {"reason", r.reason},
                   {"input", nlohmann::ordered_json::parse(r.input)},
                   {"output", nlohmann::ordered_json::parse(r.output)}});
  }
  return {{"run", run.id},
          {"sweep_hash", run.sweep_hash},
          {"definition", nlohmann::ordered_json::parse(run.definition, nullptr, false)},
          {"objectives", run.objectives},
          {"points", pts}};
}

}  // namespace pf::store
