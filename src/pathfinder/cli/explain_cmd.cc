// `pathfinder explain <preset or scenario.yaml>`: every field with its unit, value and
// source, from the same field table that loads it.
#include <fmt/core.h>

#include <filesystem>
#include <ostream>

#include "pathfinder/cli/commands.h"
#include "pathfinder/cli/table.h"
#include "pathfinder/spec/catalog.h"
#include "pathfinder/spec/scenario.h"

namespace pf::cli {
namespace {

bool LooksLikeFile(const std::string& arg) {
  std::error_code ec;
  if (std::filesystem::is_regular_file(arg, ec)) return true;
  const auto ext = std::filesystem::path(arg).extension().string();
  return ext == ".yaml" || ext == ".yml" || ext == ".json" || arg.find('/') != std::string::npos;
}

std::string Render(const std::vector<spec::ExplainRow>& rows) {
  TextTable t({"field", "value", "unit", "source"});
  for (const auto& r : rows) {
    if (r.value == "-" && r.source.empty()) continue;  // unset optional fields
    t.Row({r.path, r.value, r.unit, (r.estimate ? "ESTIMATE: " : "") + r.source});
  }
  return t.Render();
}

}  // namespace

void AddExplainCommand(CLI::App& app, CommandContext& ctx) {
  auto* cmd = app.add_subcommand("explain", "Show every field of a preset or a scenario with its unit, value and source");
  auto what = std::make_shared<std::string>();
  cmd->add_option("what", *what, "a preset name (h100-sxm, llama-3-70b, hbm3e, …) or a scenario file")->required();
  cmd->callback([&ctx, what] {
    Diagnostics diag;
    if (LooksLikeFile(*what)) {
      auto sc = spec::LoadScenario(*what, diag);
      *ctx.err << diag.Render();
      if (!sc) {
        ctx.exit_code = 2;
        return;
      }
      *ctx.out << fmt::format("scenario {}\n", *what) << Render(spec::ExplainScenario(*sc));
      return;
    }
    auto e = spec::ExplainPresetByName(*what, diag);
    *ctx.err << diag.Render();
    if (!e) {
      ctx.exit_code = 2;
      return;
    }
    *ctx.out << fmt::format("{} preset {} (data/{}/{}.yaml)\n", spec::PresetKindName(e->kind), e->name,
                            spec::PresetFolder(e->kind), e->name)
             << Render(e->rows);
  });
}

}  // namespace pf::cli
