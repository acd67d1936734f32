// `pathfinder presets [chips|models|memory|nodes|links|packaging]`: the built-in presets.
#include <fmt/core.h>

#include <ostream>

#include "pathfinder/cli/commands.h"
#include "pathfinder/cli/table.h"
#include "pathfinder/core/strings.h"
#include "pathfinder/spec/catalog.h"

namespace pf::cli {

void AddPresetsCommand(CLI::App& app, CommandContext& ctx) {
  auto* cmd = app.add_subcommand("presets", "List the built-in presets of a kind (default: every kind)");
  auto kind = std::make_shared<std::string>();
  cmd->add_option("kind", *kind, "one of: " + Join(spec::CatalogKindNames(), ", "));
  cmd->callback([&ctx, kind] {
    std::vector<std::string> kinds = spec::CatalogKindNames();
    if (!kind->empty()) {
      if (!spec::CatalogKind(*kind)) {
        const std::string hint = ClosestMatch(*kind, kinds);
        *ctx.err << fmt::format("error: unknown preset kind '{}'; {}\n", *kind,
                                hint.empty() ? "expected one of: " + Join(kinds, ", ") : "did you mean '" + hint + "'?");
        ctx.exit_code = 2;
        return;
      }
      kinds = {*kind};
    }
    Diagnostics diag;
    for (const auto& k : kinds) {
      const auto table = spec::ListPresetTable(*spec::CatalogKind(k), diag);
      TextTable t(table.header);
      for (const auto& r : table.rows) t.Row(r);
      *ctx.out << fmt::format("{} ({})\n", k, table.rows.size()) << t.Render() << "\n";
    }
    if (diag.has_errors()) {
      *ctx.err << diag.Render();
      ctx.exit_code = 2;
    }
  });
}

}  // namespace pf::cli
