// pathfinder: the command-line entry point. It only wires the modules together; each
// subcommand lives in its own file (see commands.h).
#include <fmt/core.h>

#include <iostream>

#include "pathfinder/cli/commands.h"

#ifndef PF_VERSION
#define PF_VERSION "0.0.0"
#endif

namespace pf::cli {
namespace {

void RegisterBuiltinCommands(CLI::App& app, CommandContext& ctx) {
  AddPresetsCommand(app, ctx);
  AddExplainCommand(app, ctx);
  AddCheckCommand(app, ctx);
  AddModelCommand(app, ctx);
  AddSchemaCommand(app, ctx);
  AddOpCommand(app, ctx);
  AddValidateCommand(app, ctx);
  AddCollectiveCommand(app, ctx);
  AddTrainCommand(app, ctx);
  AddDesignCommand(app, ctx);
  AddServeCommand(app, ctx);
  AddSweepCommand(app, ctx);
  AddPlanCommand(app, ctx);
}

}  // namespace
}  // namespace pf::cli

int main(int argc, char** argv) {
  pf::cli::CommandContext ctx{0, &std::cout, &std::cerr};
  CLI::App app{"pathfinder: predicts the time, power and cost of LLM training and inference on AI chips, servers and "
               "clusters, and searches for the best design."};
  app.set_version_flag("--version", std::string("pathfinder ") + PF_VERSION);
  app.require_subcommand(1);
  pf::cli::RegisterBuiltinCommands(app, ctx);
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    // Bad command line: the same exit code as any other bad input.
    std::cerr << "error: " << e.what() << "\n";
    std::cerr << "run 'pathfinder --help' (or 'pathfinder <command> --help') for usage\n";
    return 2;
  }
  return ctx.exit_code;
}
