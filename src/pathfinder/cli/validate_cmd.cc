// `pathfinder validate FILE.csv [--out rows.csv]`: simulates each row of a published-results
// CSV and prints predicted vs measured; the last line is the summary
// (report/validation.h). Bad input (unreadable file, unknown CSV kind) exits with 2.
#include <fmt/core.h>

#include <fstream>
#include <ostream>

#include "pathfinder/cli/commands.h"
#include "pathfinder/report/validation.h"
#include "pathfinder/spec/validation_csv.h"

namespace pf::cli {

void AddValidateCommand(CLI::App& app, CommandContext& ctx) {
  auto* cmd = app.add_subcommand("validate", "Compare predictions with a published-results CSV (../shared/validation schema)");
  struct Opts {
    std::string file, out;
  };
  auto o = std::make_shared<Opts>();
  cmd->add_option("file", o->file, "microbenchmark, training or inference results CSV")->required();
  cmd->add_option(
      "--out", o->out,
      "write id,status,measured,predicted,abs_pct_error,reason per row (status: ok, skipped, or left_out for a "
      "simulated collective row its own sweep contradicts)");
  cmd->callback([&ctx, o] {
    Diagnostics diag;
    auto table = spec::LoadValidationCsv(o->file, diag);
    *ctx.err << diag.Render();
    if (!table) {
      ctx.exit_code = 2;
      return;
    }
    const report::ValidationReport rep = report::Validate(*table);
    if (!o->out.empty()) {
      std::ofstream f(o->out);
      if (!f) {
        *ctx.err << fmt::format("error: cannot write {}\n", o->out);
        ctx.exit_code = 2;
        return;
      }
      f << report::RowsCsv(rep);
    }
    *ctx.out << report::Render(rep);
  });
}

}  // namespace pf::cli
