// `pathfinder check scenario.yaml [--dump-config out.yaml]`: validate only; with
// --dump-config, write the fully resolved input (presets expanded, overrides applied).
#include <fmt/core.h>

#include <fstream>
#include <ostream>

#include "pathfinder/cli/commands.h"
#include "pathfinder/spec/scenario.h"

namespace pf::cli {

void AddCheckCommand(CLI::App& app, CommandContext& ctx) {
  auto* cmd = app.add_subcommand("check", "Validate a scenario file and report every problem at once; simulates nothing");
  auto path = std::make_shared<std::string>();
  auto dump = std::make_shared<std::string>();
  cmd->add_option("scenario", *path, "scenario file (YAML or JSON)")->required();
  cmd->add_option("--dump-config", *dump, "write the fully resolved scenario to this file ('-' for standard output)");
  cmd->callback([&ctx, path, dump] {
    Diagnostics diag;
    auto sc = spec::LoadScenario(*path, diag);
    *ctx.err << diag.Render();
    if (!sc) {
      ctx.exit_code = 2;
      return;
    }
    if (!dump->empty()) {
      const std::string text = spec::DumpScenario(*sc);
      if (*dump == "-") {
        *ctx.out << text;
      } else {
        std::ofstream f(*dump);
        if (!f || !(f << text)) {
          *ctx.err << fmt::format("{}: error: cannot write the resolved scenario\n", *dump);
          ctx.exit_code = 2;
          return;
        }
      }
    }
    if (*dump != "-") {
      *ctx.out << fmt::format("{}: ok", *path);
      if (sc->chip) *ctx.out << fmt::format("; chip {}", sc->chip->name);
      if (sc->model) *ctx.out << fmt::format("; model {}", sc->model->name);
      *ctx.out << fmt::format("; {} chips (tp {} × pp {} × dp {} × cp {})\n", sc->parallelism.chips(), sc->parallelism.tp,
                              sc->parallelism.pp, sc->parallelism.dp, sc->parallelism.cp);
    }
  });
}

}  // namespace pf::cli
